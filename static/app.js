// Progressive enhancement only: every page works without JavaScript.
// Groups marked data-show-when="field=value" are hidden while that radio/select has another value.
(function () {
  "use strict";
  function update(group) {
    var rule = group.getAttribute("data-show-when").split("=");
    var name = rule[0], value = rule[1];
    var form = group.closest("form");
    if (!form) return;
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var current = "";
    inputs.forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) current = input.value;
      } else {
        current = input.value;
      }
    });
    group.hidden = current !== value;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var groups = document.querySelectorAll("[data-show-when]");
    groups.forEach(function (group) {
      update(group);
      var name = group.getAttribute("data-show-when").split("=")[0];
      var form = group.closest("form");
      if (!form) return;
      form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        input.addEventListener("change", function () { update(group); });
      });
    });
  });
})();
