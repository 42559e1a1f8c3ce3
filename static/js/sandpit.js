// Sandpit's page behaviour. Progressive enhancement only: every page works without it.
(function () {
  "use strict";

  var LIMIT = 280;
  var announceTimers = new WeakMap();

  function describe(result) {
    var remaining = LIMIT - result.weightedLength;
    if (remaining >= 0) {
      return result.weightedLength + " of " + LIMIT + " characters (" + remaining + " left)";
    }
    return "You are " + -remaining + " character" + (remaining === -1 ? "" : "s") + " over the limit of " + LIMIT;
  }

  function updateCount(textarea) {
    var counter = document.querySelector('[data-count-for="' + textarea.id + '"]');
    if (!counter || !window.SandpitTweetText) return;
    var result = window.SandpitTweetText.parseTweet(textarea.value);
    var text = counter.querySelector("[data-count-text]") || counter;
    text.textContent = describe(result);
    // The ring fills as X's does. A CSS custom property set through the CSSOM is allowed
    // under our Content-Security-Policy (an inline style attribute would not be).
    var ring = counter.querySelector("[data-count-ring]");
    if (ring) {
      ring.style.setProperty("--progress", Math.min(100, result.permillage / 10) + "%");
    }
    // X highlights the part past the limit; show it under the box.
    var overflow = document.querySelector('[data-overflow-for="' + textarea.id + '"]');
    if (overflow) {
      var over = result.valid ? "" : textarea.value.slice(Math.max(0, result.validRangeEnd + 1));
      overflow.hidden = !over;
      overflow.textContent = "";
      if (over) {
        overflow.append("Past the limit: ");
        var mark = document.createElement("mark");
        mark.textContent = over;
        overflow.append(mark);
      }
    }
    counter.classList.toggle("sp-count--warn", result.valid && result.weightedLength > LIMIT - 20);
    counter.classList.toggle("sp-count--over", !result.valid && result.weightedLength > LIMIT);
    // Screen readers hear the count when typing pauses, not on every keystroke.
    var announcer = document.querySelector('[data-count-announce-for="' + textarea.id + '"]');
    if (announcer) {
      clearTimeout(announceTimers.get(textarea));
      announceTimers.set(textarea, setTimeout(function () {
        announcer.textContent = describe(result);
      }, 1200));
    }
  }

  // Autosave: what is typed is kept in this browser until the server has it, so a closed
  // tab or a failed request loses nothing. The writer is offered it back, never surprised.
  // Ward computers are shared and the text can hold patient details, so it belongs to the
  // person: every key carries their opaque value (the <body>'s data-autosave-owner, an
  // HMAC the server makes; "" when nobody is signed in), and it is forgotten at sign-out.
  var PREFIX = "sandpit:autosave:";
  var PENDING = "sandpit:autosave:pending";  // in sessionStorage: keys, never text
  // htmx keeps copies of pages it navigated (the queue's filters) in localStorage; they
  // show drafts, so they are forgotten with the person too.
  var HTMX_HISTORY = "htmx-history-cache";

  // Undefined on a page that does not say who is signed in: keep and forget nothing there.
  function owner() {
    return document.body.dataset.autosaveOwner;
  }

  function storageKey(textarea) {
    return PREFIX + owner() + ":" + location.pathname + ":" + textarea.name;
  }

  // Remove every kept text that is not this person's: all of it when nobody is signed in.
  // Keys from before they carried an owner have no owner's value, so they go too.
  function forgetAllBut(person) {
    try {
      var keys = [];
      for (var i = 0; i < localStorage.length; i++) keys.push(localStorage.key(i));
      keys.forEach(function (key) {
        if (key.indexOf(PREFIX) === 0 && !(person && key.indexOf(PREFIX + person + ":") === 0)) {
          localStorage.removeItem(key);
        }
      });
      if (!person) {
        localStorage.removeItem(HTMX_HISTORY);
        sessionStorage.removeItem(PENDING);
      }
    } catch (e) { /* storage blocked: nothing was kept */ }
  }

  function offerRestore(textarea, saved) {
    var notice = document.createElement("div");
    notice.className = "sp-restore";
    notice.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = "You have unsent text from earlier in this box.";
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "nhsuk-button nhsuk-button--secondary nhsuk-button--small";
    restore.textContent = "Put my text back";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "sp-link-button sp-link-button--dark";
    discard.textContent = "Discard it";
    restore.addEventListener("click", function () {
      textarea.value = saved;
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      notice.remove();
      textarea.focus();
    });
    discard.addEventListener("click", function () {
      localStorage.removeItem(storageKey(textarea));
      notice.remove();
      textarea.focus();
    });
    notice.append(text, restore, " ", discard);
    textarea.before(notice);
  }

  function autosave(textarea) {
    if (!owner()) return;  // nobody to keep it for
    var key = storageKey(textarea);
    var saved = null;
    try { saved = localStorage.getItem(key); } catch (e) { return; }  // storage blocked
    if (saved && saved !== textarea.value) offerRestore(textarea, saved);
    textarea.addEventListener("input", function () {
      try { localStorage.setItem(key, textarea.value); } catch (e) { /* full or blocked */ }
    });
    if (textarea.form) {
      textarea.form.addEventListener("submit", function () {
        sessionStorage.setItem(PENDING, JSON.stringify([key].concat(
          JSON.parse(sessionStorage.getItem(PENDING) || "[]"))));
      });
    }
  }

  // The page after a submit shows the server's answer: saved, or refused with the text
  // back in the box. Either way the server has the text now, so the copies can go.
  function settlePendingSaves() {
    var pending = JSON.parse(sessionStorage.getItem(PENDING) || "[]");
    pending.forEach(function (key) { localStorage.removeItem(key); });
    sessionStorage.removeItem(PENDING);
  }

  // Alt text: X's limit is 1,000 characters, counted as code points (as the server does).
  var ALT_LIMIT = 1000;

  function updateAltCount(textarea) {
    var counter = document.querySelector('[data-alt-count-for="' + textarea.id + '"]');
    if (!counter) return;
    var length = Array.from(textarea.value).length;
    var over = length - ALT_LIMIT;
    counter.textContent = over > 0
      ? "You are " + over + " character" + (over === 1 ? "" : "s") + " over the limit of 1,000"
      : length + " of 1,000 characters";
    counter.classList.toggle("sp-count--over", over > 0);
  }

  function bindAltText(textarea) {
    textarea.addEventListener("input", function () { updateAltCount(textarea); });
    // The post's risk hints include a check for images without a description.
    textarea.addEventListener("change", function () {
      var post = document.getElementById(textarea.dataset.altFor || "");
      if (post) post.dispatchEvent(new Event("altchange"));
    });
    updateAltCount(textarea);
  }

  function bind(root) {
    root.querySelectorAll("textarea[data-alt-text]").forEach(function (textarea) {
      if (textarea.dataset.altBound) return;
      textarea.dataset.altBound = "1";
      bindAltText(textarea);
    });
    root.querySelectorAll("textarea[data-composer]").forEach(function (textarea) {
      if (textarea.dataset.composerBound) return;
      textarea.dataset.composerBound = "1";
      textarea.addEventListener("input", function () { updateCount(textarea); });
      updateCount(textarea);
      autosave(textarea);
    });
    // A new image's description box appears once there is a new image to describe.
    root.querySelectorAll("[data-new-image-alt]").forEach(function (group) {
      if (group.dataset.newAltBound) return;
      group.dataset.newAltBound = "1";
      var file = document.getElementById(group.dataset.newImageAlt);
      var textarea = group.querySelector("textarea");
      function sync() {
        group.hidden = !(file && file.files && file.files.length) && !(textarea && textarea.value);
      }
      if (file) file.addEventListener("change", sync);
      sync();
    });
    // Other long writing kept the same way: a coach's note, say.
    root.querySelectorAll("textarea[data-autosave]").forEach(function (textarea) {
      if (textarea.dataset.autosaveBound) return;
      textarea.dataset.autosaveBound = "1";
      autosave(textarea);
    });
  }

  // Signing out forgets everything kept for the person before the server forgets them.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-sign-out]")) forgetAllBut("");
  });

  document.addEventListener("DOMContentLoaded", function () {
    settlePendingSaves();
    // Someone else's text never waits here: not on the sign-in page (nobody is signed in,
    // so all of it goes), nor once another person has signed in.
    if (owner() !== undefined) forgetAllBut(owner());
    bind(document);
  });
  document.addEventListener("htmx:load", function (event) { bind(event.target); });
})();
