/* Keyboard shortcuts for the desk forms (progressive enhancement: every form works without this file).
   On a radio group, typing the first letter of a choice (n/p for a result, v/d for validity, y/n, and so on)
   picks it and moves focus to the next group, so a practised counselor records a negative test in seconds. */
(function () {
  "use strict";

  function groups() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-radio-group]"));
  }

  function focusNext(group) {
    var all = groups();
    var next = all[all.indexOf(group) + 1];
    if (next) {
      var target = next.querySelector("input:checked") || next.querySelector("input");
      target.focus();
    } else {
      var submit = document.querySelector(".desk-form button[type=submit]");
      if (submit) { submit.focus(); }
    }
  }

  function onKey(event) {
    var input = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || input.type !== "radio" || event.key.length !== 1) {
      return;
    }
    var group = input.closest("[data-radio-group]");
    if (!group) { return; }
    var key = event.key.toLowerCase();
    var options = group.querySelectorAll("input[type=radio]");
    for (var i = 0; i < options.length; i += 1) {
      var text = (options[i].parentNode.textContent || "").trim().toLowerCase();
      if (text.charAt(0) === key) {
        event.preventDefault();
        options[i].checked = true;
        options[i].dispatchEvent(new Event("change", { bubbles: true }));
        focusNext(group);
        return;
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector(".desk-form");
    if (form) { form.addEventListener("keydown", onKey); }
  });
})();
