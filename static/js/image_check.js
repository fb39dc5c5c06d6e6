// The case's check page: a grid of held images worked with the keyboard, their text boxes outlined.
import { parseRectangles as rectangles } from "./mask-rectangles.js";

var SVG = "http://www.w3.org/2000/svg";
var KEYS = { c: "clear", m: "mask", Delete: "delete", u: "" };

function radios(tile) { return tile.querySelectorAll("input[type=radio][name^='check-']"); }

function choose(tile, value) {
  radios(tile).forEach(function (radio) { radio.checked = radio.value === value; });
  tile.dataset.check = value;
}

function outline(tile) {
  var field = tile.querySelector("input.mask-rectangles");
  var svg = tile.querySelector("svg.check-boxes");
  if (!field || !svg) return;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  rectangles(field.value).forEach(function (r) {
    var rect = document.createElementNS(SVG, "rect");
    ["x", "y", "width", "height"].forEach(function (name, index) { rect.setAttribute(name, r[index]); });
    svg.appendChild(rect);
  });
}

function columns(tile) {
  var grid = tile.parentElement;
  var top = grid.firstElementChild.offsetTop;
  return Math.max(1, Array.prototype.filter.call(grid.children, function (item) { return item.offsetTop === top; }).length);
}

function bindAll() {
  var tiles = Array.prototype.slice.call(document.querySelectorAll(".check-tile"));
  tiles.forEach(function (tile) {
    radios(tile).forEach(function (radio) {
      radio.addEventListener("change", function () { tile.dataset.check = radio.value; });
    });
    var field = tile.querySelector("input.mask-rectangles");
    if (field) {
      // A mask drawn (mask.js) or typed: outline it, and it is this image's check.
      field.addEventListener("change", function () {
        outline(tile);
        if (rectangles(field.value).length) choose(tile, "mask");
      });
      field.addEventListener("input", function () { outline(tile); });
    }
  });
  document.querySelectorAll("button.check-stage").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      document.querySelectorAll('.check-tile[data-stage="' + button.dataset.stage + '"]').forEach(function (tile) {
        choose(tile, "clear");
      });
    });
  });
  document.addEventListener("keydown", function (event) {
    var tile = event.target;
    if (!tile.classList || !tile.classList.contains("check-tile") || document.querySelector(".mask-editor")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var index = tiles.indexOf(tile);
    var step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(tile), ArrowUp: -columns(tile) }[event.key];
    if (step !== undefined) {
      var target = tiles[Math.min(tiles.length - 1, Math.max(0, index + step))];
      target.focus();
      event.preventDefault();
      return;
    }
    if (event.key === "e" || (event.key === "m" && !rectangles(tile.querySelector("input.mask-rectangles").value).length)) {
      var draw = tile.querySelector("button.mask-draw");
      if (draw) draw.click();
      event.preventDefault();
      return;
    }
    if (Object.prototype.hasOwnProperty.call(KEYS, event.key)) {
      choose(tile, KEYS[event.key]);
      event.preventDefault();
      if (KEYS[event.key] && index + 1 < tiles.length) tiles[index + 1].focus();
    }
  });
}

bindAll();
