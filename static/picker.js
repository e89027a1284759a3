// The challenge picker of the contribute form (progressive enhancement: without
// JavaScript its "Find" button sends the form back with the matches as checkboxes).
// As one types, the matches are asked from /consultations/<id>/challenges (JSON, a page
// at a time) and shown as checkboxes; ticked ones stay whatever is searched next.
(function () {
  "use strict";

  function picker(box) {
    var url = box.getAttribute("data-challenge-picker");
    var list = box.querySelector("[data-challenge-list]");
    var input = box.querySelector("[data-challenge-search]");
    var status = box.querySelector("[data-challenge-status]");
    if (!url || !list || !input || !status || !window.fetch) return;
    var more = box.querySelector("[data-challenge-more]");
    if (!more) {
      more = document.createElement("button");
      more.type = "button";
      more.className = "secondary";
      more.textContent = box.getAttribute("data-more-label") || "More matches";
      more.setAttribute("data-challenge-more", "");
      box.appendChild(more);
    }
    more.type = "button";  // with JavaScript it asks for the next page here
    var next = more.value || null;
    more.hidden = !next;
    var timer = null, asked = 0;

    function ids() {
      var seen = {};
      list.querySelectorAll("input[name=answers]").forEach(function (c) { seen[c.value] = c; });
      return seen;
    }

    function add(item) {
      var id = "answers-pick-" + item.id;
      var li = document.createElement("li");
      var check = document.createElement("input");
      check.type = "checkbox";
      check.name = "answers";
      check.value = String(item.id);
      check.id = id;
      var label = document.createElement("label");
      label.htmlFor = id;
      label.setAttribute("dir", "auto");
      label.textContent = item.title;  // text, never HTML
      li.appendChild(check);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(label);
      list.appendChild(li);
    }

    function search(before) {
      var query = input.value.trim();
      var address = url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query);
      if (before) address += "&before=" + encodeURIComponent(before);
      var ticket = ++asked;
      status.textContent = box.getAttribute("data-searching-label") || "Searching…";
      fetch(address, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          if (ticket !== asked) return;  // an older answer arriving late
          if (!before) {
            // A new search: keep the ticked challenges, replace the other matches.
            list.querySelectorAll("input[name=answers]").forEach(function (c) {
              if (!c.checked) c.closest("li").remove();
            });
          }
          var seen = ids(), shown = 0;
          data.results.forEach(function (item) {
            if (!seen[String(item.id)]) { add(item); shown += 1; }
          });
          next = data.next;
          more.hidden = !next;
          status.textContent = data.results.length
            ? (box.getAttribute("data-found-label") || "Matching challenges shown: tick the ones this proposal answers.")
            : (box.getAttribute("data-none-label") || "No open challenge matches this search.");
        })
        .catch(function () {
          if (ticket === asked) status.textContent = box.getAttribute("data-failed-label") || "The search did not work. Use the Find button.";
        });
    }

    input.addEventListener("input", function () {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(function () { search(null); }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // search here, do not send the form
        event.preventDefault();
        if (timer) window.clearTimeout(timer);
        search(null);
      }
    });
    var find = box.querySelector("button[name=find_challenges]:not([data-challenge-more])");
    if (find) {
      find.addEventListener("click", function (event) {
        event.preventDefault();
        var from = document.activeElement;
        var main = box.closest("form").querySelector("button[type=submit]:not([name])");
        if (from && from !== find && from !== input && from.form === input.form && main && input.form.requestSubmit) {
          // Enter pressed in another field: send the form, as it would be without the picker.
          input.form.requestSubmit(main);
          return;
        }
        search(null);
      });
    }
    more.addEventListener("click", function (event) {
      event.preventDefault();
      if (next) search(next);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-challenge-picker]").forEach(picker);
  });
})();
