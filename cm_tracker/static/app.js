/* Progressive enhancement only: every page works without this file.
   On the create-user form, the patient record field is shown only while the role "patient" is chosen; receipts
   get a print button. */
(function () {
  "use strict";

  function linkRoleToPatientField() {
    var role = document.getElementById("role");
    var blocks = document.querySelectorAll("[data-show-for-role]");
    if (!role || !blocks.length) {
      return;
    }
    function update() {
      blocks.forEach(function (block) {
        var show = block.getAttribute("data-show-for-role") === role.value;
        var hasError = block.querySelector(".has-error") !== null;
        block.hidden = !show && !hasError;
      });
    }
    role.addEventListener("change", update);
    update();
  }

  // Print buttons stay hidden without JavaScript (the browser's Print command still works); the CSP allows no
  // inline onclick, so the handler is bound here.
  function enablePrintButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", linkRoleToPatientField);
  document.addEventListener("DOMContentLoaded", enablePrintButtons);
})();
