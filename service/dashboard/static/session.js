// Warn before the session ends by itself. The server says how long is left (asked with
// X-Dashboard-Refresh, so asking is not activity; other tabs' activity counts), the warning shows
// WARN seconds before, "Stay signed in" is activity. Once the session is over: reload onto the login form.
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var poll = Math.max(1, Number(box.dataset.pollSeconds) || 60);
  var text = box.querySelector(".session-text");
  var stay = document.getElementById("stay-signed-in");
  var timer = null;
  var headers = {"X-Requested-With": "fetch", "X-Dashboard-Refresh": "1"};

  function later(seconds) {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(1, seconds) * 1000);
  }

  function words(seconds) {
    if (seconds >= 120) { return Math.round(seconds / 60) + " minutes"; }
    return seconds + " seconds";
  }

  function show(state) {
    var left = state.seconds_left;
    if (left > state.warn_seconds) { box.hidden = true; later(Math.min(poll, left - state.warn_seconds)); return; }
    box.hidden = false;
    if (state.ends_by === "idle") {
      text.textContent = "You will be signed out in " + words(left) + " because of inactivity.";
      stay.hidden = false;
    } else {
      text.textContent = "Your session reaches its time limit in " + words(left) + ": save your work and sign in again.";
      stay.hidden = true;
    }
    later(Math.min(poll, left + 1, 15));
  }

  function answer(response) {
    if (response.status === 401) { window.location.reload(); return null; }
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json();
  }

  function check() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: headers})
      .then(answer)
      .then(function (state) { if (state) { show(state); } })
      .catch(function () { later(poll); });
  }

  stay.addEventListener("click", function () {
    fetch(box.dataset.keepaliveUrl, {method: "POST", credentials: "same-origin",
                                     headers: {"X-Requested-With": "fetch", "X-CSRFToken": box.dataset.csrfToken}})
      .then(answer)
      .then(function (state) { if (state) { show(state); } })
      .catch(function () { later(poll); });
  });
  later(poll);
})();
