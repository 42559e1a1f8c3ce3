// The idle warning. The server ends a session left unused for the idle timeout
// (sandbox.signin.IdleTimeoutMiddleware); this only tells the person before it does, and
// lets them stay. Requests the page makes by itself (htmx polling) are marked as
// background, so they do not count as use: otherwise an open queue would never time out.
(function () {
  "use strict";

  var BACKGROUND = "X-Sandpit-Background";
  var box = document.getElementById("idle-warning");
  if (!box) return;
  var timeout = Number(box.dataset.idleTimeout) * 1000;
  var warning = Number(box.dataset.idleWarning) * 1000;
  var statusUrl = box.dataset.idleUrl;
  var left = box.querySelector("[data-idle-left]");
  var stay = box.querySelector("[data-idle-stay]");
  var deadline = Date.now() + timeout;
  var timer = null;
  var ticker = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function inWords(ms) {
    var seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds >= 90) return Math.round(seconds / 60) + " minutes";
    if (seconds >= 60) return "1 minute";
    return seconds + (seconds === 1 ? " second" : " seconds");
  }

  function hide() {
    box.hidden = true;
    clearInterval(ticker);
    ticker = null;
  }

  function show() {
    if (box.hidden) {
      box.hidden = false;
      stay.focus();
    }
    left.textContent = inWords(deadline - Date.now());
    if (!ticker) {
      ticker = setInterval(function () {
        left.textContent = inWords(deadline - Date.now());
      }, 1000);
    }
  }

  function schedule() {
    clearTimeout(timer);
    var now = Date.now();
    if (now >= deadline) {
      timer = setTimeout(check, 0);
    } else if (now >= deadline - warning) {
      show();
      timer = setTimeout(check, deadline - now);
    } else {
      hide();
      timer = setTimeout(check, deadline - warning - now);
    }
  }

  // Ask the server (another tab may have been used meanwhile). Its answer is final: a
  // session it has ended comes back as a redirect or a 401, and reloading shows the
  // sign-in page. No answer at all (a dropped connection, a server restarting) is not a
  // sign-out: ask again shortly, rather than reload a page someone may be writing on.
  var SIGNED_OUT = new Error("signed out");
  var RETRY_MS = 5000;

  function ask(method) {
    var headers = { "Accept": "application/json" };
    if (method === "GET") headers[BACKGROUND] = "1";
    else headers["X-CSRFToken"] = csrfToken();
    return fetch(statusUrl, {
      method: method, headers: headers, credentials: "same-origin", redirect: "manual"
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401) throw SIGNED_OUT;
      if (!response.ok) throw new Error("no answer");
      return response.json();
    }).then(function (answer) {
      if (answer.seconds_left <= 0) throw SIGNED_OUT;
      deadline = Date.now() + answer.seconds_left * 1000;
      schedule();
    }).catch(function (error) {
      if (error === SIGNED_OUT) {
        leave();
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(check, RETRY_MS);
    });
  }

  // One way off the page once the session has ended. The sign-in page shows why, once: a
  // second navigation (a poll's HX-Redirect after this reload, or the other way round)
  // would load it again without the reason.
  var leaving = false;

  function leave() {
    if (leaving) return;
    leaving = true;
    window.location.reload();
  }

  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.getResponseHeader("HX-Redirect")) return;
    if (leaving) event.preventDefault();
    else leaving = true;
  });

  function check() { ask("GET"); }

  stay.addEventListener("click", function () { ask("POST"); });

  document.body.addEventListener("htmx:configRequest", function (event) {
    // No triggering event: htmx is polling ("every 15s"), not acting for the person.
    if (!event.detail.triggeringEvent) event.detail.headers[BACKGROUND] = "1";
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    var background = config && config.headers && config.headers[BACKGROUND] === "1";
    if (!background && event.detail.successful) {
      deadline = Date.now() + timeout;
      schedule();
    }
  });

  schedule();
})();
