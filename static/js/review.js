// The review page: anchor a note to words selected in the post. Without this script the
// coach types the words into "Quote the words this note is about" and the server finds
// them; with it, the selection fills that box and the exact code-point offsets.
(function () {
  "use strict";

  // Offsets count code points, as Python's str does, not UTF-16 units as JS strings do.
  function codePoints(text) {
    return Array.from(text).length;
  }

  // The selection, if it lies inside one post: {post, index, start, end, quote}.
  function selectedWords() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    var node = range.commonAncestorContainer;
    var post = (node.nodeType === 1 ? node : node.parentElement).closest("[data-anchor-post]");
    if (!post) return null;
    var before = document.createRange();
    before.selectNodeContents(post);
    before.setEnd(range.startContainer, range.startOffset);
    var text = post.textContent;
    var startUnits = before.toString().length;
    var endUnits = startUnits + range.toString().length;
    // Leave out white space at either end, as a person means the words, not the gaps.
    while (startUnits < endUnits && /\s/.test(text.charAt(startUnits))) startUnits++;
    while (endUnits > startUnits && /\s/.test(text.charAt(endUnits - 1))) endUnits--;
    if (startUnits === endUnits) return null;
    return {
      index: post.getAttribute("data-anchor-post"),
      start: codePoints(text.slice(0, startUnits)),
      end: codePoints(text.slice(0, endUnits)),
      quote: text.slice(startUnits, endUnits),
    };
  }

  function emptySlot(form) {
    var slots = form.querySelectorAll("[data-anchor-slot]");
    for (var i = 0; i < slots.length; i++) {
      var quote = slots[i].querySelector("[data-anchor-quote]");
      var body = slots[i].querySelector("[data-anchor-body]");
      if (!quote.value.trim() && !body.value.trim()) return slots[i];
    }
    var template = form.querySelector("[data-anchor-template]");
    var holder = form.querySelector("[data-anchor-slots]");
    var html = template.innerHTML.split("__N__").join(String(slots.length));
    holder.insertAdjacentHTML("beforeend", html);
    return holder.lastElementChild;
  }

  var remembered = null;

  document.addEventListener("selectionchange", function () {
    var words = selectedWords();
    if (words) remembered = words;
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-anchor-add]");
    if (!button) return;
    var form = button.closest("form");
    var status = form.querySelector("[data-anchor-status]");
    var words = selectedWords() || remembered;
    if (!words) {
      status.textContent = "Select some words in the post first, then choose the button again.";
      return;
    }
    var slot = emptySlot(form);
    slot.querySelector("[data-anchor-quote]").value = words.quote;
    slot.querySelector("[data-anchor-post-index]").value = words.index;
    slot.querySelector("[data-anchor-start]").value = words.start;
    slot.querySelector("[data-anchor-end]").value = words.end;
    remembered = null;
    status.textContent = "Added a note on “" + words.quote + "”. Write it in the box.";
    slot.querySelector("[data-anchor-body]").focus();
  });

  // Words typed by hand are found by the server; offsets from an old selection would
  // point somewhere else.
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-anchor-quote]")) return;
    var slot = event.target.closest("[data-anchor-slot]");
    slot.querySelector("[data-anchor-start]").value = "";
    slot.querySelector("[data-anchor-end]").value = "";
  });

  function reveal(root) {
    root.querySelectorAll("[data-anchor-add]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
})();
