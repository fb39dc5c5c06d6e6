// Quiz pages: the countdown of a timed attempt, and marking the finding on a click-the-finding question.
import { Viewer, supported } from "./viewer/viewer.js";

function bindCountdown() {
  var clock = document.querySelector(".countdown");
  if (!clock) return;
  var shown = clock.querySelector("strong");
  var end = Date.now() + Number(clock.dataset.secondsLeft) * 1000;
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    shown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    clock.classList.toggle("countdown-low", left <= 60);
    // The server refuses to count later answers anyway; this only spares the reader a useless answer.
    if (left <= 0) document.getElementById(clock.dataset.finishForm).submit();
    else setTimeout(tick, 250);
  }
  tick();
}

function bindPick() {
  var form = document.querySelector(".answer-form");
  var root = form && form.querySelector("[data-viewer][data-pick]");
  if (!root || !supported) return;
  var viewer = new Viewer(root);
  var status = form.querySelector(".pick-status");
  var submit = form.querySelector("[data-needs-pick]");
  viewer.onPick = function (mark) {
    form.querySelector("[data-pick=x]").value = mark.x.toFixed(4);
    form.querySelector("[data-pick=y]").value = mark.y.toFixed(4);
    form.querySelector("[data-pick=slice]").value = String(mark.slice);
    status.textContent = "Marked on image " + mark.slice + ". Click again to move the mark, or answer.";
    submit.disabled = false;
  };
  fetch(root.dataset.dataUrl, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error("question images " + response.status);
    return response.json();
  }).then(function (data) {
    viewer.open(data, { slice: 1 }); // from the top: finding the level is part of the question
    viewer.actions["tool-pick"]();
  }).catch(function () {
    status.textContent = "The images could not be loaded. Reload the page and try again.";
  });
}

bindCountdown();
bindPick();
