// Refresh the queue table in place every few seconds (the page keeps its scroll position).
// Logged out or session over: reload, which lands on the login form. Marked as a refresh
// (X-Dashboard-Refresh), so it does not count as the nurse's activity for the idle timeout.
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  if (!rows) { return; }
  var every = Math.max(1, Number(rows.dataset.refreshSeconds) || 15) * 1000;
  var stamp = document.getElementById("updated");

  function schedule() { window.setTimeout(refresh, every); }

  function refresh() {
    fetch(rows.dataset.refreshUrl, {credentials: "same-origin", headers: {"X-Requested-With": "fetch", "X-Dashboard-Refresh": "1"}})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        rows.innerHTML = html;
        if (stamp) { stamp.textContent = new Date().toLocaleTimeString(); stamp.classList.remove("warn"); }
        schedule();
      })
      .catch(function () {
        if (stamp) { stamp.textContent = "not updated (connection problem), retrying"; stamp.classList.add("warn"); }
        schedule();
      });
  }
  schedule();
})();
