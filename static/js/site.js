// Small enhancements on top of htmx; every page works without this file.
document.addEventListener("htmx:responseError", () => {
  document.getElementById("htmx-error")?.removeAttribute("hidden");
});
document.addEventListener("htmx:sendError", () => {
  document.getElementById("htmx-error")?.removeAttribute("hidden");
});
document.addEventListener("htmx:beforeRequest", () => {
  document.getElementById("htmx-error")?.setAttribute("hidden", "");
});
