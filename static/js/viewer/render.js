// Drawing a pane: the slice through its window, the grid of frames, the annotations and the reader's mark.

import { arrowHead, ellipse, labelInside, onScreen } from "../annotation-geometry.js";
import { autoWindow, windowInto } from "./windowing.js";

const MARK_COLOUR = "#ffd400";
const PICK_COLOUR = "#4dd2ff";
const LINKED_COLOUR = "#ff5a36";

// An 8-bit picture's grey levels, for windowing a series without values.
function luma(picture) {
  const canvas = document.createElement("canvas");
  canvas.width = picture.naturalWidth;
  canvas.height = picture.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(picture, 0, 0);
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const levels = new Uint8Array(canvas.width * canvas.height);
  for (let p = 0, q = 0; p < levels.length; p += 1, q += 4) levels[p] = (rgba[q] * 77 + rgba[q + 1] * 150 + rgba[q + 2] * 29) >> 8;
  return levels;
}

// What to draw for a slice: the picture as it is, the values through the window, or null while nothing arrived.
function bitmap(pane, index) {
  const series = pane.series, image = series.images[index];
  let values = series.values[index];
  if (!values && !series.byValues) {
    const picture = series.pictures[index];
    if (!picture) return null;
    const identity = pane.win.center === 127.5 && pane.win.width === 255 && !pane.invert;
    if (identity) return picture;
    values = series.lumas[index] || (series.lumas[index] = luma(picture));
  }
  if (!values) return series.pictures[index] || null; // the web image, until the values arrive
  if (!pane.win) pane.win = autoWindow(values, series.data.modality);
  const scratch = pane.scratch;
  if (scratch.width !== image.width || scratch.height !== image.height) {
    scratch.width = image.width;
    scratch.height = image.height;
    pane.imageData = null;
  }
  if (!pane.imageData) pane.imageData = pane.scratchContext.createImageData(image.width, image.height);
  windowInto(new Uint32Array(pane.imageData.data.buffer), values, pane.win, pane.invert !== Boolean(values.inverted));
  pane.scratchContext.putImageData(pane.imageData, 0, 0);
  return scratch;
}

function renderMarks(pane, marks, ratio, place, size) {
  const context = pane.context;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.lineJoin = context.lineCap = "round";
  context.font = "600 15px system-ui, sans-serif";
  context.shadowColor = "rgba(0, 0, 0, 0.9)";
  context.shadowBlur = 3;
  const width = pane.canvas.clientWidth, height = pane.canvas.clientHeight;
  // Labels stay inside the pane, whatever the zoom and the pane's width.
  function label(text, x, y) {
    context.fillText(text, ...labelInside(x, y, context.measureText(text).width, width, height));
  }
  marks.forEach((mark) => {
    const linked = pane.linkedMark !== undefined && mark.id === pane.linkedMark;
    context.strokeStyle = context.fillStyle = linked ? LINKED_COLOUR : MARK_COLOUR;
    context.lineWidth = linked ? 4 : 2.5;
    if (linked) pane.canvas.dataset.mark = String(mark.id);
    const p = onScreen(mark.points, place, size);
    const [x1, y1, x2, y2] = p;
    context.beginPath();
    if (mark.kind === "arrow") {
      const [barb, otherBarb] = arrowHead(p, 12);
      context.moveTo(x1, y1);
      context.lineTo(x2, y2);
      context.moveTo(...barb);
      context.lineTo(x2, y2);
      context.lineTo(...otherBarb);
      context.stroke();
      if (mark.label) label(mark.label, x1 + (x1 < x2 ? -4 - context.measureText(mark.label).width : 4), y1 + (y1 < y2 ? -4 : 16));
    } else if (mark.kind === "ellipse") {
      const shape = ellipse(p);
      context.ellipse(shape.x, shape.y, shape.rx, shape.ry, 0, 0, 2 * Math.PI);
      context.stroke();
      if (mark.label) label(mark.label, Math.max(x1, x2) + 4, Math.min(y1, y2) + 12);
    } else {
      label(mark.label, x1, y1);
    }
  });
  context.shadowBlur = 0;
}

function renderPick(pane, ratio, place, size) {
  const context = pane.context;
  const x = place.x + pane.picked.x * size.width * place.scale, y = place.y + pane.picked.y * size.height * place.scale;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.strokeStyle = PICK_COLOUR;
  context.lineWidth = 2.5;
  context.beginPath();
  context.moveTo(x - 12, y);
  context.lineTo(x + 12, y);
  context.moveTo(x, y - 12);
  context.lineTo(x, y + 12);
  context.stroke();
}

function renderSlice(pane, ratio) {
  const context = pane.context, place = pane.layout();
  const size = pane.size();
  const picture = bitmap(pane, pane.index);
  if (picture) {
    context.imageSmoothingEnabled = place.scale < 3;
    context.setTransform(ratio * place.scale, 0, 0, ratio * place.scale, ratio * place.x, ratio * place.y);
    context.drawImage(picture, 0, 0, size.width, size.height);
    pane.canvas.dataset.slice = String(pane.index + 1);
  }
  pane.canvas.dataset.mark = ""; // the linked arrow's id while it is drawn (a finding's link)
  if (pane.viewer.marks) renderMarks(pane, pane.series.images[pane.index].annotations, ratio, place, size);
  if (pane.picked && pane.picked.slice === pane.index + 1) renderPick(pane, ratio, place, size);
}

function renderGrid(pane, ratio) {
  const context = pane.context, shape = pane.gridShape();
  const cellWidth = pane.canvas.clientWidth / shape.columns, cellHeight = pane.canvas.clientHeight / shape.rows;
  context.font = Math.round(11 * ratio) + "px system-ui, sans-serif";
  for (let i = 0; i < shape.count; i += 1) {
    const image = pane.series.images[i];
    const picture = bitmap(pane, i);
    const scale = Math.min(cellWidth / image.width, cellHeight / image.height);
    const x = (i % shape.columns) * cellWidth + (cellWidth - image.width * scale) / 2;
    const y = Math.floor(i / shape.columns) * cellHeight + (cellHeight - image.height * scale) / 2;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    if (picture) context.drawImage(picture, x, y, image.width * scale, image.height * scale);
    context.fillStyle = i === pane.index ? MARK_COLOUR : "#cfd8e3";
    context.fillText(String(i + 1), (i % shape.columns) * cellWidth + 4, Math.floor(i / shape.columns) * cellHeight + 14);
  }
}

// Draw the pane now: its canvas sized to the screen's pixels, then the grid or the slice.
export function render(pane) {
  const canvas = pane.canvas, context = pane.context;
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio), height = Math.round(canvas.clientHeight * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.fillStyle = "#000";
  context.fillRect(0, 0, width, height);
  if (pane.grid) renderGrid(pane, ratio);
  else renderSlice(pane, ratio);
  pane.frames += 1;
  canvas.dataset.frames = String(pane.frames);
  pane.updateReadouts();
}
