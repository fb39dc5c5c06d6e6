// Authoring screen: draw rectangles over burned-in text on an image; they fill that row's "Mask" field.
import { between, formatRectangles, isDrawn, parseRectangles } from "./mask-rectangles.js";

function openEditor(link, field) {
  var overlay = document.createElement("div");
  overlay.className = "mask-editor";
  overlay.innerHTML =
    '<div class="mask-toolbar"><strong>Drag over the burned-in text.</strong> ' +
    '<button type="button" class="button mask-undo">Undo</button> ' +
    '<button type="button" class="button default mask-done">Done</button> ' +
    '<button type="button" class="button mask-cancel">Cancel</button></div>' +
    '<div class="mask-stage"><img alt="Image to mask"><canvas></canvas></div>';
  document.body.appendChild(overlay);
  var img = overlay.querySelector("img");
  var canvas = overlay.querySelector("canvas");
  var context = canvas.getContext("2d");
  // Start from what the field holds: the boxes the import found text in, or an earlier drawing.
  var rectangles = parseRectangles(field.value);
  var start = null;

  function draw(extra) {
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = "rgba(0, 0, 0, 0.85)";
    context.strokeStyle = "#ff5a5a";
    context.lineWidth = Math.max(2, canvas.width / 400);
    rectangles.concat(extra ? [extra] : []).forEach(function (r) {
      context.fillRect(r[0], r[1], r[2], r[3]);
      context.strokeRect(r[0], r[1], r[2], r[3]);
    });
  }
  function point(event) {
    var box = canvas.getBoundingClientRect();
    return [
      Math.round((event.clientX - box.left) * canvas.width / box.width),
      Math.round((event.clientY - box.top) * canvas.height / box.height),
    ];
  }
  img.onload = function () {
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    draw();
  };
  img.src = link.href;
  canvas.addEventListener("pointerdown", function (event) { start = point(event); canvas.setPointerCapture(event.pointerId); });
  canvas.addEventListener("pointermove", function (event) { if (start) draw(between(start, point(event))); });
  canvas.addEventListener("pointerup", function (event) {
    if (!start) return;
    var r = between(start, point(event));
    start = null;
    if (isDrawn(r)) rectangles.push(r);
    draw();
  });
  overlay.querySelector(".mask-undo").addEventListener("click", function () { rectangles.pop(); draw(); });
  function close() {
    overlay.remove();
    var back = field.closest("[tabindex]") || field;
    back.focus();
  }
  overlay.querySelector(".mask-cancel").addEventListener("click", close);
  overlay.querySelector(".mask-done").addEventListener("click", function () {
    field.value = formatRectangles(rectangles);
    field.dispatchEvent(new Event("change", { bubbles: true }));
    close();
  });
  overlay.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
    if (event.key === "Enter" && event.target.tagName !== "BUTTON") overlay.querySelector(".mask-done").click();
  });
  overlay.querySelector(".mask-done").focus();
}

function bindAll() {
  document.querySelectorAll("input.mask-rectangles").forEach(function (field) {
    // A row of the stage editor, or an image of the case's check page.
    var row = field.closest("tr, .mask-item");
    var link = row && row.querySelector("td.field-thumbnail_preview a, a.mask-source");
    if (!link) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button mask-draw";
    button.textContent = "Draw mask";
    button.addEventListener("click", function () { openEditor(link, field); });
    field.insertAdjacentElement("afterend", button);
  });
}

// Module scripts run once the page is parsed: the rows exist.
bindAll();
