/* Progressive enhancement only: every page works without this file.
   On the create-user form, the patient record field is shown only while the role "patient" is chosen. */
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

  document.addEventListener("DOMContentLoaded", linkRoleToPatientField);
})();
