// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";

  // Groups marked data-show-when="field=value" are hidden while that radio/select has
  // another value. A hidden group is display:none (the [hidden] attribute), so its
  // controls leave the tab order and cannot trap or swallow keyboard focus; "change"
  // fires for keyboard choices too (arrow keys on radios, a select's keys).
  function showWhen(group) {
    var rule = group.getAttribute("data-show-when").split("=");
    var name = rule[0], value = rule[1];
    var form = group.closest("form");
    if (!form) return;
    var current = "";
    form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) current = input.value;
      } else {
        current = input.value;
      }
    });
    var hide = current !== value;
    // Never hide the control that has focus (or one inside a group with errors).
    if (hide && group.contains(document.activeElement)) return;
    if (hide && group.querySelector(".error")) hide = false;
    group.hidden = hide;
  }

  // A table wider than the screen scrolls inside its .table-wrap: make that wrapper
  // reachable with the Tab key (arrow keys then scroll it) and name it after the
  // table's caption, so keyboard and screen-reader users can scroll it too.
  function scrollableTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var overflows = wrap.scrollWidth > wrap.clientWidth + 1;
      if (overflows && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        var caption = wrap.querySelector("caption");
        var heading = caption ? null : wrap.previousElementSibling;
        var label = caption ? caption.textContent : (heading && /^H[2-6]$/.test(heading.tagName) ? heading.textContent : "");
        wrap.setAttribute("aria-label", (label || document.title).trim());
        wrap.setAttribute("data-scroll-added", "");
      } else if (!overflows && wrap.hasAttribute("data-scroll-added")) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        wrap.removeAttribute("data-scroll-added");
      }
    });
  }

  // The current page's link in the main navigation says so (aria-current).
  function currentNav() {
    var here = window.location.pathname;
    document.querySelectorAll(".site-header nav a[href]").forEach(function (link) {
      var path = new URL(link.href, window.location.href).pathname;
      if (path === here || (path !== "/" && path.length > 1 && here.indexOf(path) === 0 && /\/$/.test(path))) {
        link.setAttribute("aria-current", "page");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-show-when]").forEach(function (group) {
      showWhen(group);
      var name = group.getAttribute("data-show-when").split("=")[0];
      var form = group.closest("form");
      if (!form) return;
      form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        input.addEventListener("change", function () { showWhen(group); });
      });
    });
    scrollableTables();
    currentNav();
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) window.clearTimeout(pending);
      pending = window.setTimeout(scrollableTables, 150);
    });
  });
})();
