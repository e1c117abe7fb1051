// A classic (non-module) script on purpose: when the page is opened from disk, browsers refuse to
// load ES modules from file:// URLs, so the app never starts. This says why, and where to go.
window.addEventListener("load", () => {
  // Module scripts run before "load"; if the app had started it would have said so.
  if (window.desafio || location.protocol !== "file:") return;
  const notice = document.getElementById("notice");
  const text = document.getElementById("noticeText");
  if (!notice || !text) return;
  text.textContent =
    "This page was opened from disk and the browser would not run its scripts. " +
    "Start the server and open http://localhost:8765/client/ instead.";
  notice.hidden = false;
});
