// The case's check page: tick every held image of one stage at once.
(function () {
  "use strict";

  function bindAll() {
    document.querySelectorAll("button.check-stage").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var stage = document.getElementById(button.dataset.stage);
        stage.querySelectorAll("input[name=clear]").forEach(function (box) { box.checked = true; });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bindAll);
  else bindAll();
})();
