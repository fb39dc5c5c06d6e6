// Question editor: draw the click-the-finding target on a slice of the chosen stage — drag a circle from its
// centre, or click a polygon's corners — and see shaded what counts as correct. The target lives in the form's
// hidden fields (target_shape, target_x, target_y, target_radius, target_points), as the server checks it.
import {
  circleFromDrag, closesPolygon, insideCircle, insidePolygon, polygonProblem, rounded, sliceRangeWith,
} from "./target-geometry.js";

var SVG = "http://www.w3.org/2000/svg";
var CLOSE_NEAR = 0.02; // a click this close to the first corner (fraction of the width) closes a polygon
var HINTS = {
  circle: "Drag from the centre of the finding outward.",
  polygon: "Click each corner of the finding; click the first corner again (or press Enter) to close it.",
};

function field(name) {
  return document.getElementById("id_" + name);
}

function number(name) {
  var value = field(name).value.trim();
  return value === "" ? null : Number(value);
}

// The target the form holds now: {shape: "circle", x, y, radius}, {shape: "polygon", points}, or null.
function storedTarget() {
  if (field("target_shape").value === "polygon") {
    var points = JSON.parse(field("target_points").value || "[]");
    return points.length ? { shape: "polygon", points: points } : null;
  }
  var x = number("target_x"), y = number("target_y"), radius = number("target_radius");
  return x === null || y === null || radius === null ? null : { shape: "circle", x: x, y: y, radius: radius };
}

function storeTarget(target) {
  var circle = target && target.shape === "circle";
  field("target_shape").value = target ? target.shape : "circle";
  field("target_x").value = circle ? rounded(target.x) : "";
  field("target_y").value = circle ? rounded(target.y) : "";
  field("target_radius").value = circle ? rounded(target.radius) : "";
  field("target_points").value = JSON.stringify(target && !circle ? target.points : []);
}

function svgElement(name, attributes) {
  var element = document.createElementNS(SVG, name);
  Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
  return element;
}

export class TargetDrawer {
  constructor(container, onChange) {
    this.onChange = onChange;
    this.root = document.createElement("div");
    this.root.className = "target-drawer";
    this.root.hidden = true;
    this.root.innerHTML =
      '<div class="target-tools" role="group" aria-label="Target shape">' +
      '<button type="button" class="button" data-tool="circle">Circle</button> ' +
      '<button type="button" class="button" data-tool="polygon">Polygon</button> ' +
      '<button type="button" class="button target-close" disabled>Close the polygon</button> ' +
      '<button type="button" class="button target-clear">Clear the target</button>' +
      "</div>" +
      '<label class="target-slice">Slice <input type="range" min="1" value="1"> <output></output></label>' +
      '<p class="target-hint"></p>' +
      '<div class="target-stage"><img alt=""><svg role="img" aria-label="Drawing area for the target"></svg></div>' +
      '<p class="target-status" role="status" aria-live="polite"></p>' +
      '<p class="target-probe" aria-live="off"></p>';
    container.appendChild(this.root);
    this.img = this.root.querySelector("img");
    this.svg = this.root.querySelector("svg");
    this.slider = this.root.querySelector(".target-slice input");
    this.status = this.root.querySelector(".target-status");
    this.probe = this.root.querySelector(".target-probe");
    this.closeButton = this.root.querySelector(".target-close");
    this.target = storedTarget();
    this.draft = [];
    this.drag = null;
    this.hover = null;
    this.bind();
    this.setTool(this.target && this.target.shape === "polygon" ? "polygon" : "circle");
  }

  bind() {
    var self = this;
    this.root.querySelectorAll("[data-tool]").forEach(function (button) {
      button.addEventListener("click", function () { self.setTool(button.dataset.tool); });
    });
    this.closeButton.addEventListener("click", function () { self.closePolygon(); });
    this.root.querySelector(".target-clear").addEventListener("click", function () { self.clear(); });
    this.slider.addEventListener("input", function () { self.showSlice(Number(self.slider.value) - 1); });
    this.svg.addEventListener("pointerdown", function (event) { self.down(event); });
    this.svg.addEventListener("pointermove", function (event) { self.move(event); });
    this.svg.addEventListener("pointerup", function (event) { self.up(event); });
    this.svg.addEventListener("pointerleave", function () { self.hover = null; self.draw(); });
    this.root.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && self.tool === "polygon" && self.draft.length) {
        event.preventDefault(); // Enter would submit the question's form
        self.closePolygon();
      }
    });
  }

  // Show ``stage`` (from the picker's data) at slice ``index`` (0-based).
  open(stage, index) {
    this.stage = stage;
    this.root.hidden = false;
    this.root.querySelector(".target-slice").hidden = stage.images.length < 2;
    this.slider.max = String(stage.images.length);
    this.showSlice(index);
    this.root.scrollIntoView({ block: "nearest" });
  }

  hide() {
    this.root.hidden = true;
  }

  showSlice(index) {
    var image = this.stage.images[index];
    this.index = index;
    this.slider.value = String(index + 1);
    this.root.querySelector(".target-slice output").textContent = index + 1 + " of " + this.stage.images.length;
    this.img.src = image.src;
    this.img.alt = this.stage.label + ", slice " + (index + 1);
    this.img.width = image.width;
    this.img.height = image.height;
    this.svg.setAttribute("viewBox", "0 0 " + image.width + " " + image.height);
    this.aspect = image.height / image.width;
    this.draw();
  }

  setTool(tool) {
    this.tool = tool;
    this.draft = [];
    this.root.querySelectorAll("[data-tool]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
    });
    this.svg.dataset.tool = tool;
    this.root.querySelector(".target-hint").textContent = HINTS[tool];
    this.draw();
  }

  at(event) {
    var box = this.svg.getBoundingClientRect();
    return [
      Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)),
      Math.min(1, Math.max(0, (event.clientY - box.top) / box.height)),
    ];
  }

  down(event) {
    if (this.tool !== "circle") return;
    this.svg.setPointerCapture(event.pointerId);
    this.drag = { start: this.at(event) };
  }

  move(event) {
    this.hover = this.at(event);
    if (this.drag) this.drag.circle = Object.assign({ shape: "circle" }, circleFromDrag(this.drag.start, this.hover, this.aspect));
    this.draw();
  }

  up(event) {
    var point = this.at(event);
    if (this.tool === "circle") {
      var drag = this.drag;
      this.drag = null;
      if (drag && drag.circle) this.commit(drag.circle);
      else this.draw();
      return;
    }
    if (closesPolygon(this.draft, point, CLOSE_NEAR, this.aspect)) this.closePolygon();
    else {
      this.draft.push([rounded(point[0]), rounded(point[1])]);
      this.say("Corner " + this.draft.length + " placed.");
      this.draw();
    }
  }

  closePolygon() {
    var problem = polygonProblem(this.draft);
    if (problem) {
      this.say(problem + " Clear the target to start again.");
      return;
    }
    var points = this.draft;
    this.draft = [];
    this.commit({ shape: "polygon", points: points });
  }

  commit(target) {
    this.target = target;
    storeTarget(target);
    var range = sliceRangeWith(number("slice_from"), number("slice_to"), this.index + 1);
    field("slice_from").value = range[0];
    field("slice_to").value = range[1];
    this.say(this.describe());
    this.draw();
    this.onChange();
  }

  clear() {
    this.target = null;
    this.draft = [];
    storeTarget(null);
    this.say("No target: draw one.");
    this.draw();
    this.onChange();
  }

  describe() {
    if (!this.target) return "No target yet: draw one.";
    var from = number("slice_from"), to = number("slice_to");
    var slices = from ? "slices " + from + "–" + (to || from) : "any slice";
    var shape = this.target.shape === "circle" ? "Circle" : "Polygon of " + this.target.points.length + " corners";
    return shape + ". A click inside the shaded area on " + slices + " counts as correct.";
  }

  say(text) {
    this.status.textContent = text;
  }

  counts(point) {
    var slice = this.index + 1, from = number("slice_from"), to = number("slice_to");
    if ((from && slice < from) || (to && slice > to)) return false;
    if (this.target.shape === "circle") return insideCircle(this.target, point, this.aspect);
    return insidePolygon(this.target.points, point);
  }

  shape(target, className) {
    var width = this.stage.images[this.index].width, height = this.stage.images[this.index].height;
    if (target.shape === "circle") {
      return svgElement("circle", { cx: target.x * width, cy: target.y * height, r: target.radius * width, class: className });
    }
    var points = target.points.map(function (point) { return point[0] * width + "," + point[1] * height; });
    return svgElement("polygon", { points: points.join(" "), class: className });
  }

  draw() {
    if (!this.stage) return;
    var svg = this.svg, width = this.stage.images[this.index].width, height = this.stage.images[this.index].height;
    svg.replaceChildren();
    if (this.target) {
      var slice = this.index + 1, from = number("slice_from"), to = number("slice_to");
      var counted = !((from && slice < from) || (to && slice > to));
      svg.appendChild(this.shape(this.target, counted ? "target-shade" : "target-shade target-off-slice"));
    }
    if (this.drag && this.drag.circle) svg.appendChild(this.shape(this.drag.circle, "target-draft"));
    if (this.draft.length) {
      var line = this.draft.concat(this.hover ? [this.hover] : []);
      var points = line.map(function (point) { return point[0] * width + "," + point[1] * height; });
      svg.appendChild(svgElement("polyline", { points: points.join(" "), class: "target-draft" }));
      svg.appendChild(svgElement("circle", {
        cx: this.draft[0][0] * width, cy: this.draft[0][1] * height, r: CLOSE_NEAR * width, class: "target-first",
      }));
    }
    this.closeButton.disabled = this.tool !== "polygon" || this.draft.length < 3;
    this.probe.textContent = this.target && this.hover && !this.drag && !this.draft.length
      ? (this.counts(this.hover) ? "A click here counts as correct." : "A click here does not count.")
      : "";
  }
}
