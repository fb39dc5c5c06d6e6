// The case page's stage cards: drag a card, or press its ↑ ↓ buttons, to reorder the stages. Each move
// renumbers the stages' order fields, which the case form saves; without JavaScript those fields are typed.
// A classic script, not a module: the add-case page loads it too, and when that page's DICOM upload is
// answered with the case's page written in its place, a module already run there would not run again.
(function () {
"use strict";

function renumber(list) {
  list.querySelectorAll(".stage-card").forEach(function (card, index) {
    var order = card.querySelector("input[name$='-order']");
    if (order) order.value = index + 1;
    card.querySelector(".stage-number").textContent = index + 1;
  });
}

function announce(list, card) {
  var cards = Array.from(list.querySelectorAll(".stage-card"));
  var label = card.querySelector(".stage-label").textContent.replace(/^\s*\d+\.\s*/, "");
  list.parentElement.querySelector(".stage-move-status").textContent =
    label + " is now stage " + (cards.indexOf(card) + 1) + " of " + cards.length + ". Save to keep the order.";
}

function moveBy(list, card, step) {
  var sibling = step < 0 ? card.previousElementSibling : card.nextElementSibling;
  if (!sibling) return;
  if (step < 0) list.insertBefore(card, sibling);
  else list.insertBefore(sibling, card);
  renumber(list);
  announce(list, card);
}

function addButtons(list, card) {
  var box = document.createElement("div");
  box.className = "stage-move";
  [["↑", -1, "up"], ["↓", 1, "down"]].forEach(function (spec) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.textContent = spec[0];
    button.dataset.step = spec[1];
    button.setAttribute("aria-label", "Move stage " + spec[2]);
    button.addEventListener("click", function () {
      moveBy(list, card, spec[1]);
      button.focus();
    });
    box.appendChild(button);
  });
  var field = card.querySelector(".stage-field.field-order");
  var order = field.querySelector("input");
  field.replaceWith(box);
  order.hidden = true;
  box.appendChild(order);
}

function allowDragging(list) {
  var dragged = null;
  list.addEventListener("dragstart", function (event) {
    dragged = event.target.closest(".stage-card");
    if (!dragged) return;
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.stage);
  });
  list.addEventListener("dragover", function (event) {
    var target = event.target.closest(".stage-card");
    if (!dragged || !target || target === dragged) return;
    event.preventDefault();
    var box = target.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2 || (event.clientX > box.left + box.width / 2 && event.clientY > box.top);
    list.insertBefore(dragged, after ? target.nextElementSibling : target);
  });
  list.addEventListener("drop", function (event) {
    event.preventDefault();
  });
  list.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged.draggable = false;
    renumber(list);
    announce(list, dragged);
    dragged = null;
  });
}

function enhance(list) {
  var cards = list.querySelectorAll(".stage-card");
  if (!cards.length || !list.querySelector(".field-order input")) return;  // read only: nothing to move
  var status = document.createElement("p");
  status.className = "stage-move-status help";
  status.setAttribute("role", "status");
  list.after(status);
  cards.forEach(function (card) {
    addButtons(list, card);
    // Dragged by its picture or label only: a draggable card would keep its fields' text from being selected.
    card.querySelectorAll(".stage-thumb, .stage-label").forEach(function (handle) {
      handle.classList.add("stage-handle");
      handle.addEventListener("pointerdown", function () { card.draggable = true; });
    });
  });
  allowDragging(list);
}

function start() {
  document.querySelectorAll(".stage-card-list").forEach(enhance);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
})();
