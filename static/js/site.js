// Small enhancements on top of htmx; every page works without this file.
document.addEventListener("htmx:responseError", () => {
  document.getElementById("htmx-error")?.removeAttribute("hidden");
});
document.addEventListener("htmx:sendError", () => {
  document.getElementById("htmx-error")?.removeAttribute("hidden");
});
// Under DEBUG, django-htmx's script replaces the whole document with any 400, 403, 404 or
// 500 response to an htmx request. Keep that for server errors (Django's debug page) and
// let htmx's own response handling (base.html's htmx-config) deal with the rest, as it does
// with DEBUG off. Listening in the capture phase runs before django-htmx's listener.
document.addEventListener("htmx:beforeOnLoad", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400 && status < 500) event.stopPropagation();
}, { capture: true });
document.addEventListener("htmx:beforeRequest", () => {
  document.getElementById("htmx-error")?.setAttribute("hidden", "");
  document.getElementById("htmx-busy")?.setAttribute("hidden", "");
});

// 503 "busy, not saved" (learning/busy.py): nothing was stored, so send the same request
// once more after Retry-After seconds; if that is refused too, say so and leave the page
// (and what the learner typed) as it is. htmx has no retry of its own.
const BUSY_RETRY_HEADER = "X-Busy-Retry";
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (detail.xhr.status !== 503) return;
  detail.shouldSwap = false;
  detail.isError = false; // not the generic "could not reach the server" message
  const headers = detail.requestConfig?.headers ?? {};
  if (headers[BUSY_RETRY_HEADER]) {
    document.getElementById("htmx-busy")?.removeAttribute("hidden");
    return;
  }
  const seconds = Number(detail.xhr.getResponseHeader("Retry-After"));
  const wait = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) : 2;
  const config = detail.requestConfig;
  setTimeout(() => {
    htmx.ajax(config.verb, config.path, {
      source: detail.requestConfig.elt,
      target: detail.target,
      headers: { [BUSY_RETRY_HEADER]: "1" },
    });
  }, wait * 1000);
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
