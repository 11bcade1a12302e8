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

// Time left on a timed quiz; the server keeps the real deadline and enforces it.
function showTimeLeft() {
  for (const element of document.querySelectorAll("[data-deadline]")) {
    const seconds = Math.max(0, Math.round(Number(element.dataset.deadline) - Date.now() / 1000));
    const minutes = Math.floor(seconds / 60);
    element.textContent = seconds > 0
      ? `${minutes}:${String(seconds % 60).padStart(2, "0")}`
      : "time is up";
  }
}
setInterval(showTimeLeft, 1000);
document.addEventListener("DOMContentLoaded", showTimeLeft);
document.addEventListener("htmx:afterSwap", showTimeLeft);
