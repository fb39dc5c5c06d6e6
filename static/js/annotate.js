// Authoring screen: draw arrows, ellipses and text labels over an image and save them to the server.
// Points are fractions of the image's width and height, as the Annotation model stores them.
import { arrowHead, clamp, ellipse, hits as near, moved, onScreen } from "./annotation-geometry.js";

var KINDS = { arrow: "Arrow", ellipse: "Ellipse", text: "Text" };
var COLOUR = "#ffd400";
var SELECTED = "#00e5ff";

function describe(mark) {
  var text = KINDS[mark.kind] + (mark.label ? ": " + mark.label : "");
  return text + (mark.after_reveal ? " (after reveal)" : " (before reveal)");
}

function openEditor(opener) {
  var overlay = document.createElement("div");
  overlay.className = "annotate-editor";
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-label", "Annotate image");
  overlay.innerHTML =
    '<div class="annotate-toolbar">' +
    '<div role="group" aria-label="Tool">' +
    '<button type="button" class="button" data-tool="select">Select / move</button> ' +
    '<button type="button" class="button" data-tool="arrow">Arrow</button> ' +
    '<button type="button" class="button" data-tool="ellipse">Ellipse</button> ' +
    '<button type="button" class="button" data-tool="text">Text</button>' +
    "</div>" +
    '<div role="group" aria-label="Selected annotation" class="annotate-selected">' +
    '<label>Label <input type="text" class="annotate-label" maxlength="80" size="24" disabled></label> ' +
    '<label><input type="checkbox" class="annotate-after" disabled> Shown after reveal</label> ' +
    '<button type="button" class="button annotate-delete" disabled>Delete</button>' +
    "</div>" +
    '<div role="group" aria-label="Editor">' +
    '<button type="button" class="button default annotate-save" disabled>Save</button> ' +
    '<button type="button" class="button annotate-cancel">Cancel</button>' +
    "</div></div>" +
    '<p class="annotate-info"><strong class="annotate-status" role="status" aria-live="polite"></strong> ' +
    '<span class="annotate-hint"></span></p>' +
    '<div class="annotate-body">' +
    '<div class="annotate-stage"><img alt="Image to annotate">' +
    '<canvas tabindex="0" aria-label="Drawing area: arrow keys move the selected annotation"></canvas></div>' +
    '<ol class="annotate-list" aria-label="Annotations"></ol>' +
    "</div>";
  var others = Array.prototype.filter.call(document.body.children, function (element) { return !element.inert; });
  others.forEach(function (element) { element.inert = true; });
  document.body.appendChild(overlay);

  var img = overlay.querySelector("img");
  var canvas = overlay.querySelector("canvas");
  var context = canvas.getContext("2d");
  var labelField = overlay.querySelector(".annotate-label");
  var afterField = overlay.querySelector(".annotate-after");
  var deleteButton = overlay.querySelector(".annotate-delete");
  var saveButton = overlay.querySelector(".annotate-save");
  var status = overlay.querySelector(".annotate-status");
  var hint = overlay.querySelector(".annotate-hint");
  var list = overlay.querySelector(".annotate-list");
  var marks = [];
  var selected = null;
  var tool = "select";
  var drag = null; // {kind: "draw"|"move", start: [x, y], points: [...]}
  var savedMarks = "[]";
  var warned = false;
  var HINTS = {
    select: "Click an annotation to select it; drag to move it.",
    arrow: "Drag from the tail to where the arrow points.",
    ellipse: "Drag a box around the finding.",
    text: "Click where the text starts, then type it in the Label field.",
  };

  function fontSize() { return Math.max(12, Math.round(canvas.width / 30)); }

  function pixels(mark) {
    return onScreen(mark.points, { x: 0, y: 0, scale: 1 }, canvas);
  }

  function textAt(text, x, y, colour) {
    context.font = fontSize() + "px sans-serif";
    context.textBaseline = "top";
    context.lineWidth = Math.max(2, fontSize() / 6);
    context.strokeStyle = "#000";
    context.strokeText(text, x, y);
    context.fillStyle = colour;
    context.fillText(text, x, y);
  }

  function outlined(colour, width) {
    // A dark edge keeps the mark visible on white bone as on black air.
    context.strokeStyle = "#000";
    context.lineWidth = width * 2.5;
    context.stroke();
    context.strokeStyle = colour;
    context.lineWidth = width;
    context.stroke();
  }

  function drawMark(mark, colour) {
    var p = pixels(mark);
    var width = Math.max(2, canvas.width / 300);
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    if (mark.kind === "arrow") {
      var barbs = arrowHead(p, width * 6);
      context.moveTo(p[0], p[1]);
      context.lineTo(p[2], p[3]);
      context.moveTo(barbs[0][0], barbs[0][1]);
      context.lineTo(p[2], p[3]);
      context.lineTo(barbs[1][0], barbs[1][1]);
      outlined(colour, width);
      if (mark.label) textAt(mark.label, p[0] + width * 2, p[1] + width * 2, colour);
    } else if (mark.kind === "ellipse") {
      var shape = ellipse(p);
      context.ellipse(shape.x, shape.y, shape.rx, shape.ry, 0, 0, 2 * Math.PI);
      outlined(colour, width);
      if (mark.label) textAt(mark.label, Math.min(p[0], p[2]), Math.max(p[1], p[3]) + width * 2, colour);
    } else {
      var text = mark.label || "…";
      textAt(text, p[0], p[1], colour);
    }
  }

  function draw() {
    context.clearRect(0, 0, canvas.width, canvas.height);
    marks.forEach(function (mark) { drawMark(mark, mark === selected ? SELECTED : COLOUR); });
    if (drag && drag.kind === "draw") drawMark({ kind: tool, points: drag.points, label: "" }, SELECTED);
  }

  function render() {
    draw();
    list.innerHTML = "";
    marks.forEach(function (mark, index) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "annotate-item";
      button.textContent = describe(mark);
      button.setAttribute("aria-pressed", String(mark === selected));
      button.addEventListener("click", function () { select(mark); list.children[index].firstChild.focus(); });
      item.appendChild(button);
      list.appendChild(item);
    });
    labelField.disabled = afterField.disabled = deleteButton.disabled = !selected;
    labelField.value = selected ? selected.label : "";
    afterField.checked = selected ? selected.after_reveal : false;
  }

  function select(mark) {
    selected = mark;
    render();
  }

  function setTool(name) {
    tool = name;
    overlay.querySelectorAll("[data-tool]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    });
    canvas.dataset.tool = name;
    hint.textContent = HINTS[name];
  }

  function fit() {
    // Small images (a 128-pixel NM frame) are shown large enough to draw on; the canvas matches the screen.
    var top = overlay.querySelector(".annotate-body").getBoundingClientRect().top;
    var room = [window.innerWidth - list.offsetWidth - 64, window.innerHeight - top - 24];
    var scale = Math.min(room[0] / img.naturalWidth, room[1] / img.naturalHeight);
    img.style.width = Math.max(64, Math.floor(img.naturalWidth * scale)) + "px";
    canvas.width = Math.round(img.clientWidth * window.devicePixelRatio);
    canvas.height = Math.round(img.clientHeight * window.devicePixelRatio);
    draw();
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
  }

  function hits(mark, at) {
    context.font = fontSize() + "px sans-serif";
    var text = { width: context.measureText(mark.label || "…").width, height: fontSize() };
    return near(mark, at, canvas, Math.max(8, canvas.width / 80), text);
  }

  function move(mark, from, dx, dy) {
    // Keep every point on the image: the move stops at the edge.
    mark.points = moved(from, dx, dy);
  }

  function remove() {
    if (!selected) return;
    marks.splice(marks.indexOf(selected), 1);
    select(null);
    canvas.focus();
  }

  // Closing with changes not saved asks once: a second Cancel or Esc discards them.
  function close() {
    if (JSON.stringify(marks) !== savedMarks && !warned) {
      warned = true;
      status.textContent = "Not saved yet: Save, or press Cancel (or Esc) again to discard the changes.";
      return;
    }
    window.removeEventListener("resize", fit);
    overlay.remove();
    others.forEach(function (element) { element.inert = false; });
    opener.focus();
  }

  function loaded(data) {
    marks = data.annotations;
    savedMarks = JSON.stringify(marks);
    warned = false;
    opener.textContent = "Annotations (" + marks.length + ")";
    select(null);
  }

  function save() {
    var unlabelled = marks.filter(function (mark) { return mark.kind === "text" && !mark.label.trim(); });
    if (unlabelled.length) {
      select(unlabelled[0]);
      status.textContent = "Type the text of this text label, or delete it.";
      labelField.focus();
      return;
    }
    status.textContent = "Saving…";
    fetch(opener.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value,
      },
      body: JSON.stringify({ annotations: marks }),
    }).then(function (response) {
      if (!response.ok) return response.text().then(function (message) { status.textContent = "Not saved: " + message; });
      return response.json().then(function (data) {
        loaded(data);
        status.textContent = "Saved";
      });
    }).catch(function () { status.textContent = "Not saved: the server could not be reached."; });
  }

  canvas.addEventListener("pointerdown", function (event) {
    var at = point(event);
    canvas.setPointerCapture(event.pointerId);
    if (tool === "select") {
      var hit = marks.slice().reverse().find(function (mark) { return hits(mark, at); }) || null;
      select(hit);
      if (hit) drag = { kind: "move", start: at, points: hit.points.slice() };
    } else {
      drag = { kind: tool === "text" ? "place" : "draw", start: at, points: [at[0], at[1], at[0], at[1]] };
    }
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drag || drag.kind === "place") return;
    var at = point(event);
    if (drag.kind === "move") move(selected, drag.points, at[0] - drag.start[0], at[1] - drag.start[1]);
    else drag.points = [drag.start[0], drag.start[1], at[0], at[1]];
    draw();
  });
  canvas.addEventListener("pointerup", function () {
    var done = drag;
    drag = null;
    if (!done) return;
    if (done.kind === "move") { render(); return; }
    var p = done.points;
    var tooShort = Math.abs(p[2] - p[0]) + Math.abs(p[3] - p[1]) < 0.01;
    if (done.kind === "draw" && tooShort) { draw(); return; } // a click, not a drag
    var mark = { kind: tool, points: p, label: "", after_reveal: true };
    marks.push(mark);
    select(mark);
    // Focused after the click, which would otherwise focus the canvas.
    if (tool === "text") labelField.focus();
  });
  canvas.addEventListener("keydown", function (event) {
    var steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!selected || !steps[event.key]) return;
    event.preventDefault();
    var step = event.shiftKey ? 0.05 : 0.01;
    move(selected, selected.points, steps[event.key][0] * step, steps[event.key][1] * step);
    render();
  });
  overlay.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
    else if (event.key === "Delete" && (event.target === canvas || list.contains(event.target))) remove();
  });
  labelField.addEventListener("input", function () {
    selected.label = labelField.value;
    draw();
    list.children[marks.indexOf(selected)].firstChild.textContent = describe(selected);
  });
  afterField.addEventListener("change", function () { selected.after_reveal = afterField.checked; render(); });
  deleteButton.addEventListener("click", remove);
  overlay.querySelectorAll("[data-tool]").forEach(function (button) {
    button.addEventListener("click", function () { setTool(button.dataset.tool); });
  });
  saveButton.addEventListener("click", save);
  overlay.querySelector(".annotate-cancel").addEventListener("click", close);

  setTool("select");
  status.textContent = "Loading…";
  window.addEventListener("resize", fit);
  img.onload = function () {
    fit();
    fetch(opener.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.statusText);
        return response.json();
      })
      .then(function (data) {
        loaded(data);
        status.textContent = "";
        saveButton.disabled = false;
      })
      .catch(function () { status.textContent = "The annotations could not be loaded."; });
  };
  img.src = opener.dataset.src;
  overlay.querySelector("[data-tool]").focus();
}

function bindAll() {
  document.querySelectorAll("button.annotate-open").forEach(function (button) {
    button.addEventListener("click", function () { openEditor(button); });
  });
}

// Module scripts run once the page is parsed: the rows exist.
bindAll();
