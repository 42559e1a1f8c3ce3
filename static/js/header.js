// The header's "More" menu, after the NHS.UK header: the pages that do not fit on one row
// move into a menu behind a "More" button (on a phone, most of them). Without this script
// the row wraps instead, so every page is still one click away.
(function () {
  "use strict";

  function setOpen(toggle, list, open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    list.hidden = !open;
  }

  function init(nav) {
    var links = nav.querySelector("[data-header-links]");
    var more = nav.querySelector("[data-header-more]");
    var toggle = nav.querySelector("[data-header-more-toggle]");
    var list = nav.querySelector("[data-header-more-list]");
    if (!links || !more || !toggle || !list) return;
    var width = -1;

    // Items on one row can differ by a pixel or two (they are centred); a row is ~44 px.
    function onFirstRow(item) {
      return item.offsetTop - links.firstElementChild.offsetTop < 16;
    }

    // Put every page back on the row, then move the last ones into "More" until the
    // button itself fits on the first row.
    function fit() {
      if (links.clientWidth === width) return;
      width = links.clientWidth;
      while (list.firstElementChild) links.insertBefore(list.firstElementChild, more);
      more.hidden = true;
      setOpen(toggle, list, false);
      var items = Array.prototype.filter.call(links.children, function (item) {
        return item !== more;
      });
      if (!items.length || items.every(onFirstRow)) return;
      more.hidden = false;
      // The first page always stays on the row, beside the button, and so does one with
      // an unread count (Notifications): a count behind "More" would go unseen.
      var moved = [];
      for (var i = items.length - 1; i > 0 && !onFirstRow(more); i--) {
        if (items[i].querySelector(".sp-badge")) continue;
        moved.unshift(items[i]);
        links.removeChild(items[i]);
      }
      moved.forEach(function (item) { list.appendChild(item); });
      // The page you are on is in the menu: the button says so, as NHS.UK's does.
      toggle.classList.toggle("sp-header__more-toggle--current", !!list.querySelector("[aria-current]"));
    }

    toggle.addEventListener("click", function () {
      setOpen(toggle, list, list.hidden);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !list.hidden) {
        setOpen(toggle, list, false);
        toggle.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (!list.hidden && !more.contains(event.target)) setOpen(toggle, list, false);
    });
    var pending = false;
    window.addEventListener("resize", function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        fit();
      });
    });
    fit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-header-nav]").forEach(init);
  });
})();
