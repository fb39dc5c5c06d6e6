// Question editor: the chosen case's stages as thumbnails. A single-best-answer question takes the image clicked
// (a stack's slice chosen with its slider); a click-the-finding question takes the stage clicked, and its target
// is drawn on the slice (target-drawer.js). The server checks every pick (quizzes/admin.py).
import { TargetDrawer } from "./target-drawer.js";

function field(name) {
  return document.getElementById("id_" + name);
}

class Picker {
  constructor(root) {
    this.root = root;
    this.status = root.querySelector(".question-picker-status");
    this.stages = document.createElement("div");
    this.stages.className = "question-picker-stages";
    root.appendChild(this.stages);
    this.drawer = new TargetDrawer(root, function () {});
    this.data = null;
    var self = this;
    var caseInput = field("case");
    ["change", "input"].forEach(function (type) { caseInput.addEventListener(type, function () { self.load(); }); });
    // The case's lookup pop-up sets the value through Django's jQuery, whose "change" native listeners miss.
    if (window.django && window.django.jQuery) window.django.jQuery(caseInput).on("change", function () { self.load(); });
    field("kind").addEventListener("change", function () { self.render(); });
    this.load();
  }

  load() {
    var id = field("case").value.trim();
    var self = this;
    if (this.data && id === this.loaded) return; // "change" after "input": the same case
    this.data = null;
    this.loaded = id;
    if (!/^\d+$/.test(id)) {
      this.render();
      return;
    }
    this.say("Loading the case's images…");
    fetch(this.root.dataset.url.replace(/\/0\/$/, "/" + id + "/"), { credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || "The case's images could not be loaded.");
          return body;
        });
      })
      .then(function (data) {
        if (self.loaded !== id) return; // another case was chosen meanwhile
        self.data = data;
        self.render();
      })
      .catch(function (error) {
        self.stages.replaceChildren();
        self.drawer.hide();
        self.say(error.message.indexOf("not yours") >= 0 ? error.message : "The case's images could not be loaded.");
      });
  }

  say(text) {
    this.status.textContent = text;
  }

  render() {
    var kind = field("kind").value;
    this.stages.replaceChildren();
    this.drawer.hide();
    if (!this.data) return this.say("Choose the case first: its images appear here.");
    if (kind === "unknown") return this.say("An unknown case shows the whole case: there is nothing to pick.");
    if (!this.data.stages.length) return this.say("This case has no stage shown before the reveal to pick from.");
    if (kind !== "click") kind = "sba"; // a kind not chosen yet: picking an image is the likelier wish
    var self = this;
    this.data.stages.forEach(function (stage) { self.stages.appendChild(self.stageBlock(stage, kind)); });
    if (kind === "click") {
      var chosen = this.data.stages.find(function (stage) { return String(stage.id) === field("series").value; });
      if (chosen) return this.openStage(chosen, this.firstSlice(chosen));
      return this.say("Click the stage the resident will click on.");
    }
    var image = field("image").value;
    var found = image && this.data.stages.some(function (stage) {
      return stage.images.some(function (item) { return String(item.id) === image; });
    });
    if (image && !found) {
      field("image").value = "";
      return this.say("The picked image is not in this case: pick one of its images.");
    }
    this.say(found ? "Image picked (outlined). Click another to change it." : "Click an image to show it with the stem (optional).");
  }

  firstSlice(stage) {
    var from = Number(field("slice_from").value);
    return from >= 1 && from <= stage.images.length ? from - 1 : stage.key;
  }

  stageBlock(stage, kind) {
    var block = document.createElement("section");
    block.className = "picker-stage";
    var heading = document.createElement("h3");
    heading.textContent = stage.label + (stage.stack ? " (" + stage.images.length + " slices)" : "");
    block.appendChild(heading);
    var self = this;
    if (kind === "click" || stage.stack) {
      var index = kind === "sba" ? this.sliceOf(stage) : stage.key;
      block.appendChild(this.thumb(stage, index, kind));
      if (stage.stack && kind === "sba") block.appendChild(this.sliceChooser(stage, index, block));
    } else {
      stage.images.forEach(function (_, index) { block.appendChild(self.thumb(stage, index, kind)); });
    }
    if (kind === "click" && stage.arrows) {
      var warning = document.createElement("p");
      warning.className = "picker-warning";
      warning.textContent = "Has arrows shown before the reveal: a click question cannot use it.";
      block.appendChild(warning);
    }
    return block;
  }

  sliceOf(stage) {
    var image = field("image").value;
    var index = stage.images.findIndex(function (item) { return String(item.id) === image; });
    return index >= 0 ? index : stage.key;
  }

  thumb(stage, index, kind) {
    var image = stage.images[index];
    var button = document.createElement("button");
    button.type = "button";
    button.className = "picker-thumb";
    button.dataset.image = image.id;
    var picked = kind === "click" ? String(stage.id) === field("series").value : String(image.id) === field("image").value;
    button.setAttribute("aria-pressed", String(picked));
    var img = document.createElement("img");
    img.src = stage.stack && kind === "sba" ? image.src : image.thumb;
    img.alt = stage.label + (stage.images.length > 1 ? ", image " + (index + 1) : "");
    button.appendChild(img);
    var self = this;
    button.addEventListener("click", function () {
      var current = stage.images.findIndex(function (item) { return String(item.id) === button.dataset.image; });
      if (kind === "click") self.pickStage(stage, current);
      else self.pickImage(stage, current);
    });
    return button;
  }

  sliceChooser(stage, index, block) {
    var label = document.createElement("label");
    label.className = "picker-slice";
    label.innerHTML = 'Slice <input type="range" min="1"> <output></output>';
    var slider = label.querySelector("input"), output = label.querySelector("output");
    slider.max = String(stage.images.length);
    slider.value = String(index + 1);
    output.textContent = index + 1 + " of " + stage.images.length;
    slider.addEventListener("input", function () {
      var image = stage.images[Number(slider.value) - 1];
      var button = block.querySelector(".picker-thumb");
      button.dataset.image = image.id;
      button.querySelector("img").src = image.src;
      button.querySelector("img").alt = stage.label + ", image " + slider.value;
      button.setAttribute("aria-pressed", String(String(image.id) === field("image").value));
      output.textContent = slider.value + " of " + stage.images.length;
    });
    return label;
  }

  pickImage(stage, index) {
    var image = stage.images[index];
    var again = field("image").value === String(image.id);
    field("image").value = again ? "" : String(image.id);
    this.root.querySelectorAll(".picker-thumb").forEach(function (button) {
      button.setAttribute("aria-pressed", String(!again && button.dataset.image === String(image.id)));
    });
    this.say(again ? "No image: the stem is shown alone." : "Picked " + stage.label + ", image " + (index + 1) + ". Click it again to remove it.");
  }

  pickStage(stage, index) {
    if (field("series").value !== String(stage.id)) {
      field("series").value = String(stage.id);
      field("slice_from").value = "";
      field("slice_to").value = "";
      this.drawer.clear();
    }
    this.root.querySelectorAll(".picker-thumb").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.image === String(stage.images[index].id)));
    });
    this.openStage(stage, index);
  }

  openStage(stage, index) {
    this.drawer.open(stage, index);
    this.say("Stage picked: " + stage.label + ". " + this.drawer.describe());
  }
}

var root = document.querySelector(".question-picker");
if (root && field("kind") && field("case")) new Picker(root);
