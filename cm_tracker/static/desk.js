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

  /* A status without results (missed, excused, refused) hides the result groups and disables them, so nothing
     chosen there is posted; choosing final again shows them with what was chosen before. Without this file the
     server drops results posted with such a status. */
  function syncResults(form) {
    var status = form.querySelector("[data-no-results]");
    var results = form.querySelector("[data-results]");
    if (!status || !results) { return; }
    var chosen = status.querySelector("input:checked");
    var none = !!chosen && status.getAttribute("data-no-results").split(" ").indexOf(chosen.value) !== -1;
    results.hidden = none;
    results.disabled = none;
  }

  /* The error summary's links: open the collapsed section holding the field, then focus the field itself (a radio
     group's chosen or first option), where a bare #fragment would only scroll to it. */
  function followErrorLink(event) {
    var link = event.target.closest("a[data-field]");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("data-field"));
    if (!target) { return; }
    event.preventDefault();
    var section = target.closest("details");
    if (section) { section.open = true; }
    var focusable = target.matches("input, select, textarea") ? target :
      (target.querySelector("input:checked") || target.querySelector("input, select, textarea"));
    (focusable || target).focus();
    target.scrollIntoView({ block: "center" });
  }

  /* Focus starts on the summary of what was refused (or on a stale form's notice), even where the browser has not
     applied `autofocus` on a non-input element. */
  function focusNotice() {
    var notice = document.querySelector("[data-error-summary], #recorded");
    if (notice && document.activeElement !== notice) { notice.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusNotice();
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.addEventListener("click", followErrorLink); }
    var form = document.querySelector(".desk-form");
    if (!form) { return; }
    form.addEventListener("keydown", onKey);
    form.addEventListener("change", function (event) {
      if (event.target.closest("[data-no-results]")) { syncResults(form); }
    });
    syncResults(form);
  });
})();
