// The approval queue's keyboard shortcuts: j/k select, o opens, a and r open the review
// with a decision ready. Progressive enhancement: every row is a plain link without it.
// The rows are replaced by htmx polling; the selection follows the draft, not the row.
// Single keys can clash with speech input and screen readers (WCAG 2.1.4), so a switch on
// the page turns them off; the choice is kept in localStorage. They are on by default.
// The choice is one person's (a speech-input user's "off" is not the next coach's on a
// shared computer), so it is kept under their opaque value from the page, like autosave
// in sandpit.js. It holds no patient detail, so unlike a draft it outlives sign-out.
(function () {
  "use strict";

  var selectedId = null;
  var ACTIONS = { o: "", a: "approve", r: "request_changes" };
  var STORED = "sandpit.queueShortcuts:" + (document.body.dataset.autosaveOwner || "");

  // Storage can be refused (private windows, strict settings): then the switch still
  // works, for this page only.
  var on = true;
  try {
    on = window.localStorage.getItem(STORED) !== "off";
    // The old key was the whole browser's, whoever set it: nobody's now.
    window.localStorage.removeItem("sandpit.queueShortcuts");
  } catch (error) { /* stay on */ }

  // Show the switch and set it to the choice made; also after htmx restores a page from its
  // history, whose snapshot holds the switch as it was drawn then.
  function showSwitch() {
    var box = document.getElementById("queue-shortcuts");
    if (!box) return;
    box.checked = on;
    box.closest("[data-shortcuts-switch]").hidden = false;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  }

  function announce(text) {
    var status = document.getElementById("queue-announce");
    if (status) status.textContent = text;
  }

  function describe(row, index, count) {
    var link = row.querySelector("[data-queue-open]");
    var trainee = row.querySelector("[data-queue-trainee]");
    var waiting = row.querySelector("[data-queue-waiting]");
    return "Post " + (index + 1) + " of " + count + " selected: " +
      (link ? link.textContent.trim() : "") + ", by " +
      (trainee ? trainee.textContent.trim() : "") + ", waiting " +
      (waiting ? waiting.textContent.trim() : "") + ".";
  }

  // Mark a row as selected; move focus to its link only when the coach moved it.
  function select(row, options) {
    var all = rows();
    all.forEach(function (other) {
      other.classList.remove("sp-queue__row--selected");
      other.removeAttribute("aria-current");
    });
    if (!row) { selectedId = null; return; }
    row.classList.add("sp-queue__row--selected");
    row.setAttribute("aria-current", "true");
    selectedId = row.dataset.draftId;
    if (options.focus) {
      var link = row.querySelector("[data-queue-open]");
      if (link) link.focus();
      announce(describe(row, all.indexOf(row), all.length));
    }
  }

  function current() {
    return rows().filter(function (row) { return row.dataset.draftId === selectedId; })[0] || null;
  }

  // The row holding focus is the selected one, however focus got there (Tab, a click,
  // a page restored by the Back button, which fires no focus events).
  function followFocus() {
    var active = document.activeElement;
    var row = active && active.closest && active.closest("[data-queue-row]");
    if (row && row.dataset.draftId !== selectedId) select(row, { focus: false });
  }

  function move(step) {
    var all = rows();
    if (!all.length) { announce("Nothing is waiting in this view."); return; }
    var index = all.indexOf(current());
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1)
      : Math.max(0, Math.min(all.length - 1, index + step));
    select(all[next], { focus: true });
  }

  function open(decision) {
    var row = current();
    if (!row) { announce("Select a post first: press j."); return; }
    var link = row.querySelector("[data-queue-open]");
    var url = new URL(link.href);
    if (decision) url.searchParams.set("decision", decision);
    window.location.assign(url.toString());
  }

  // A row's "approve with others" box is part of the list, not a box being typed in.
  function typing(target) {
    if (target.closest && target.closest("[data-queue-row]") && target.type === "checkbox") return false;
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("change", function (event) {
    if (event.target.id !== "queue-shortcuts") return;
    on = event.target.checked;
    try { window.localStorage.setItem(STORED, on ? "on" : "off"); } catch (error) { /* this page only */ }
  });

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-queue]")) return;
    if (!on) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target)) return;
    followFocus();
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (Object.prototype.hasOwnProperty.call(ACTIONS, event.key)) {
      event.preventDefault();
      open(ACTIONS[event.key]);
    }
  });

  showSwitch();
  document.addEventListener("htmx:historyRestore", showSwitch);

  // A click or tab onto a row's link selects that row too, so j/k carry on from there.
  document.addEventListener("focusin", followFocus);

  // After a refresh: the same draft stays selected (and focused, if focus was in the list).
  // If it has gone (another coach decided it), the row now in its place is selected.
  var before = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "queue-rows") return;
    var row = current();
    var active = document.activeElement;
    before = {
      index: row ? rows().indexOf(row) : -1,
      focused: !!(active && event.detail.target.contains(active)),
    };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!before) return;
    var state = before;
    before = null;
    var row = current();
    var all = rows();
    if (!row && state.index !== -1 && all.length) row = all[Math.min(state.index, all.length - 1)];
    if (!row) { select(null, {}); return; }
    select(row, { focus: false });
    // Focus stays where it is if it is still in the row (a ticked box htmx kept in place).
    if (state.focused && !row.contains(document.activeElement)) {
      var link = row.querySelector("[data-queue-open]");
      if (link) link.focus();
    }
  });

  // After approving the ticked posts in place (htmx swaps the page's main), take the coach
  // to what happened: the problem with the form, or what became of each post.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!form || form.id !== "approve-clean") return;
    var report = document.querySelector("main .nhsuk-error-summary, main .sp-messages");
    if (!report) return;
    report.setAttribute("tabindex", "-1");
    report.focus();
  });
})();
