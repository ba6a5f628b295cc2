// New programme from scratch: show only the schedule fields of the chosen kind. Without JavaScript every kind's
// fields stay visible and the form still works (the others are ignored).
(function () {
  "use strict";
  var select = document.getElementById("kind");
  if (!select) { return; }
  var parts = document.querySelectorAll(".kind-part");
  function show() {
    for (var i = 0; i < parts.length; i++) {
      parts[i].hidden = parts[i].getAttribute("data-kind") !== select.value;
    }
  }
  select.addEventListener("change", show);
  show();
}());
