// One pane: a series on a canvas with its own slice, window and presets, zoom and pan, cine and grid.

import { clampZoom, fitScale, gridCell, gridShape, imageFraction, layout, panForZoomAt, startIndex } from "./geometry.js";
import { paneState } from "./deeplink.js";
import { afterInjection, edgeLetters, positionText } from "./orientation.js";
import { bindPointer } from "./pointer.js";
import { render } from "./render.js";
import { autoWindow, presetIndex, presetList, storedWindow } from "./windowing.js";

const EDGES = ["top", "right", "bottom", "left"];

export class Pane {
  constructor(viewer, element) {
    this.viewer = viewer;
    this.element = element;
    this.canvas = element.querySelector("canvas");
    this.context = this.canvas.getContext("2d");
    this.scratch = document.createElement("canvas");
    this.scratchContext = this.scratch.getContext("2d");
    this.seriesSelect = element.querySelector(".viewer-series");
    this.presetSelect = element.querySelector(".viewer-preset");
    this.playButton = element.querySelector(".viewer-play");
    this.fpsInput = element.querySelector(".viewer-fps");
    this.gridButton = element.querySelector(".viewer-grid");
    this.slider = element.querySelector(".viewer-slider");
    this.readouts = {
      counter: element.querySelector(".viewer-counter"),
      position: element.querySelector(".viewer-position"),
      window: element.querySelector(".viewer-window"),
      zoom: element.querySelector(".viewer-zoom"),
      loading: element.querySelector(".viewer-loading"),
      view: element.querySelector(".viewer-view"),
      time: element.querySelector(".viewer-time"),
    };
    EDGES.forEach((edge) => {
      this.readouts[edge] = element.querySelector(".viewer-orient-" + edge);
    });
    this.series = null;
    this.index = 0;
    this.win = null; // null: set from the values once they arrive
    this.invert = false;
    this.zoom = null; // null: fit to the pane
    this.pan = { x: 0, y: 0 };
    this.grid = false;
    this.timer = null;
    this.frames = 0;
    this.pending = false;
    this.bind();
  }

  bind() {
    this.seriesSelect.addEventListener("change", () => this.show(this.viewer.seriesById(this.seriesSelect.value)));
    this.presetSelect.addEventListener("change", () => {
      const preset = this.presets()[Number(this.presetSelect.value)];
      if (preset && preset[1] !== null) this.setWindow(preset[1], preset[2]);
      else if (preset) this.autoWindow();
    });
    this.playButton.addEventListener("click", () => this.togglePlay());
    this.fpsInput.addEventListener("change", () => {
      if (this.timer) {
        this.stop();
        this.play();
      }
    });
    this.gridButton.addEventListener("click", () => this.toggleGrid());
    this.slider.addEventListener("input", () => this.go(Number(this.slider.value) - 1, true));
    this.element.addEventListener("pointerdown", () => this.viewer.activate(this), true);
    this.element.addEventListener("focusin", () => this.viewer.activate(this));
    bindPointer(this);
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  box() {
    return { width: this.canvas.clientWidth, height: this.canvas.clientHeight };
  }

  show(series, options = {}) {
    this.stop();
    if (this.series) {
      const old = this.listener;
      this.series.listeners = this.series.listeners.filter((listener) => listener !== old);
    }
    this.series = series;
    this.seriesSelect.value = String(series.data.id);
    const images = series.images;
    // A flow study opens on its first frame, the injection, so that Play runs it in order.
    this.index = startIndex(images, options.index === undefined && series.data.cine ? 0 : options.index);
    this.zoom = options.zoom || null;
    this.linkedMark = options.mark; // the arrow a finding's link picks out, drawn bolder
    this.pan = { x: 0, y: 0 };
    this.invert = false;
    this.grid = false;
    this.buildPresets();
    this.win = options.window || this.openingWindow();
    this.slider.max = String(images.length);
    this.slider.hidden = images.length < 2;
    this.fpsInput.value = String(series.data.cine ? 4 : 10);
    this.playButton.disabled = this.gridButton.disabled = images.length < 2;
    this.element.classList.toggle("viewer-pane-cine", Boolean(series.data.cine));
    this.listener = (index) => {
      this.progress();
      if (index === this.index || this.grid) this.draw();
    };
    series.listeners.push(this.listener);
    series.prioritize(this.index);
    this.progress();
    this.draw();
  }

  // The window stored with the image, else none yet (the values will set it), else the picture as it is.
  defaultWindow() {
    return storedWindow(this.series.images[this.index], this.series.byValues);
  }

  autoWindow() {
    const values = this.series.values[this.index];
    this.win = values ? autoWindow(values, this.series.data.modality) : null;
    this.draw();
  }

  // The window the stage opens in: the preset its author chose (e.g. bone for a CT of bony findings), else the
  // stored one; the preset menu shows which.
  openingWindow() {
    const index = presetIndex(this.presets(), this.series.data.opensIn);
    this.presetSelect.value = String(index);
    const preset = this.presets()[index];
    return index ? { center: preset[1], width: preset[2] } : this.defaultWindow();
  }

  presets() {
    return presetList(this.series.byValues, this.defaultWindow(), this.series.data.presets);
  }

  buildPresets() {
    const select = this.presetSelect;
    select.textContent = "";
    this.presets().forEach((preset, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = preset[0];
      select.appendChild(option);
    });
    select.value = "0";
  }

  cyclePreset() {
    const count = this.presets().length;
    this.presetSelect.value = String((Number(this.presetSelect.value) + 1) % count);
    this.presetSelect.dispatchEvent(new Event("change"));
  }

  go(index, byReader) {
    if (!this.series) return;
    const last = this.series.images.length - 1;
    const target = Math.max(0, Math.min(last, index));
    if (target === this.index) return;
    this.index = target;
    this.series.prioritize(target);
    this.draw();
    if (byReader) this.viewer.scrolled(this);
  }

  setWindow(center, width) {
    this.win = { center, width: Math.max(1, width) };
    this.draw();
  }

  setInvert(invert) {
    this.invert = invert;
    this.draw();
  }

  reset() {
    this.win = this.openingWindow();
    this.invert = false;
    this.zoom = null;
    this.pan = { x: 0, y: 0 };
    this.draw();
  }

  size() {
    const image = this.series.images[this.index];
    return { width: image.width, height: image.height };
  }

  scale() {
    return this.zoom || fitScale(this.size(), this.box());
  }

  zoomTo(zoom) {
    this.zoom = clampZoom(zoom);
    this.draw();
  }

  // Zoom keeping the image point under (x, y) of the canvas in place.
  zoomAt(zoom, x, y) {
    const before = this.layout();
    this.zoom = clampZoom(zoom);
    this.pan = panForZoomAt(before, this.zoom, x, y, this.size(), this.box());
    this.draw();
  }

  fit() {
    this.zoom = null;
    this.pan = { x: 0, y: 0 };
    this.draw();
  }

  layout() {
    return layout(this.size(), this.box(), this.pan, this.scale());
  }

  // Cine: the slices in a loop at the pane's frames per second (1 to 30).
  play() {
    if (!this.series || this.series.images.length < 2) return;
    const fps = Math.max(1, Math.min(30, Number(this.fpsInput.value) || 4));
    this.fpsInput.value = String(fps);
    this.timer = setInterval(() => {
      this.go(this.index + 1 > this.series.images.length - 1 ? 0 : this.index + 1, true);
    }, 1000 / fps);
    this.playButton.setAttribute("aria-pressed", "true");
    this.playButton.textContent = "Pause";
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.playButton.setAttribute("aria-pressed", "false");
    this.playButton.textContent = "Play";
  }

  togglePlay() {
    if (this.timer) this.stop();
    else this.play();
  }

  toggleGrid() {
    if (!this.series || this.series.images.length < 2) return;
    this.grid = !this.grid;
    this.gridButton.setAttribute("aria-pressed", String(this.grid));
    if (this.grid) {
      this.stop();
      this.series.prioritize(0);
    }
    this.draw();
  }

  gridShape() {
    return gridShape(this.series.images.length, this.box());
  }

  pickCell(event) {
    const shape = this.gridShape();
    const box = this.canvas.getBoundingClientRect();
    const index = gridCell(shape, box, event.clientX - box.left, event.clientY - box.top);
    if (index >= 0) {
      this.grid = false;
      this.gridButton.setAttribute("aria-pressed", "false");
      this.index = -1;
      this.go(index, true);
    }
  }

  // Mark a point of the slice on screen, in fractions of the image, for a click-the-finding question.
  mark(event) {
    const box = this.canvas.getBoundingClientRect();
    const point = imageFraction(event.clientX - box.left, event.clientY - box.top, this.layout(), this.size());
    if (!point) return;
    this.picked = { x: point.x, y: point.y, slice: this.index + 1 };
    this.draw();
    if (this.viewer.onPick) this.viewer.onPick(this.picked);
  }

  progress() {
    const series = this.series;
    const total = series.images.length;
    this.element.dataset.loaded = String(series.loaded);
    this.element.dataset.total = String(total);
    let message = "";
    if (series.loaded + series.failed < total) message = "Loading " + series.loaded + " / " + total;
    else if (series.loaded < total) message = (total - series.loaded) + " images could not be loaded";
    this.readouts.loading.textContent = message;
  }

  // Draw at most once per animation frame, however many events asked for it.
  draw() {
    if (this.pending || !this.series) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      render(this);
    });
  }

  updateReadouts() {
    const series = this.series, image = series.images[this.index];
    const total = series.images.length;
    this.readouts.counter.textContent = this.grid ? total + " frames" : (this.index + 1) + " / " + total;
    this.readouts.position.textContent = positionText(image.position, image.orientation);
    this.readouts.view.textContent = this.grid ? "" : image.view || "";
    this.readouts.time.textContent = this.grid || image.seconds === null || image.seconds === undefined
      ? "" : afterInjection(image.seconds) + " after injection";
    const letters = this.grid ? null : edgeLetters(image.orientation);
    EDGES.forEach((edge) => {
      this.readouts[edge].textContent = letters ? letters[edge] : "";
    });
    this.readouts.window.textContent = this.win
      ? "W " + Math.round(this.win.width) + " L " + Math.round(this.win.center) + (this.invert ? " · inverted" : "") : "";
    this.readouts.zoom.textContent = this.grid ? "" : "Zoom " + Math.round(this.scale() * 100) + "%";
    this.slider.value = String(this.index + 1);
    this.canvas.setAttribute("aria-label", image.alt + (total > 1 ? ", image " + (this.index + 1) + " of " + total : ""));
    this.viewer.changed(this);
  }

  state() {
    return paneState(this.series.data.id, this.index, this.win, this.zoom);
  }
}
