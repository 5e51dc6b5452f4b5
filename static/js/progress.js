// Live progress of an ingest or publish job in the upload wizard (progressive enhancement:
// without JavaScript the page offers a "Check again" link).
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-bar");
  var text = document.getElementById("job-status");
  var next = document.getElementById("job-next");
  function show(s) {
    bar.value = s.progress || 0;
    bar.textContent = (s.progress || 0) + "%";
    if (s.status === "failed") {
      text.textContent = text.getAttribute("data-failed") + " " + (s.error || "");
      return true;
    }
    if (s.next) {
      text.textContent = text.getAttribute("data-done");
      next.querySelector("a").setAttribute("href", s.next);
      next.hidden = false;
      return true;
    }
    text.textContent = text.getAttribute("data-running");
    return false;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) { if (!show(s)) { window.setTimeout(poll, 1500); } })
      .catch(function () { window.setTimeout(poll, 4000); });
  }
  if (next.hidden) { poll(); }
}());
