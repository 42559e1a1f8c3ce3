// A recovery checklist's ticks (a lockdown's or a drill's, templates/coaching/_recovery_checklist.html).
// With htmx a tick swaps the page's main in place; the button pressed is gone, so focus
// goes to that step's new "Done" line (which says when), or to main when the tick was
// refused and a message shows instead. Without JavaScript the form posts and the page
// reloads at the step.
(function () {
  "use strict";

  var ticked = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest ? event.target.closest("[data-checklist-tick]") : null;
    var step = form ? form.closest("[data-checklist-step]") : null;
    ticked = step ? step.id : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!ticked) return;
    var step = document.getElementById(ticked);
    ticked = null;
    var done = step ? step.querySelector("[data-step-done]") : null;
    var target = done || document.getElementById("maincontent");
    if (target) target.focus();
  });
})();
