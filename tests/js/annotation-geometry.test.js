import assert from "node:assert/strict";
import { test } from "node:test";

import { arrowHead, clamp, ellipse, hits, labelInside, moved, onScreen } from "../../static/js/annotation-geometry.js";

const image = { width: 200, height: 100 };
const near = 5;
const text = { width: 40, height: 12 };

function close(actual, expected) {
  actual.flat().forEach((value, i) => assert.ok(Math.abs(value - expected.flat()[i]) < 1e-9, actual + " ≠ " + expected));
}

test("points go on screen by the image's place and scale", () => {
  assert.deepEqual(onScreen([0, 0, 1, 0.5], { x: 10, y: 20, scale: 2 }, image), [10, 20, 410, 120]);
});

test("an arrow's barbs lie behind its point, either side of the shaft", () => {
  const [one, other] = arrowHead([0, 0, 100, 0], 10);
  close([one, other], [[100 - 10 * Math.cos(0.45), 10 * Math.sin(0.45)], [100 - 10 * Math.cos(0.45), -10 * Math.sin(0.45)]]);
});

test("an ellipse fills the box of its two corners, dragged either way", () => {
  assert.deepEqual(ellipse([100, 80, 20, 0]), { x: 60, y: 40, rx: 40, ry: 40 });
});

test("an arrow is hit near its shaft, not beyond its ends", () => {
  const arrow = { kind: "arrow", points: [0.1, 0.5, 0.9, 0.5] };
  assert.ok(hits(arrow, [0.5, 0.53], image, near, text));
  assert.ok(!hits(arrow, [0.5, 0.6], image, near, text));
  assert.ok(!hits(arrow, [0.96, 0.5], image, near, text));
});

test("an ellipse is hit inside it and just outside its edge", () => {
  const ring = { kind: "ellipse", points: [0.25, 0.25, 0.75, 0.75] };
  assert.ok(hits(ring, [0.5, 0.5], image, near, text));
  assert.ok(hits(ring, [0.76, 0.5], image, near, text));
  assert.ok(!hits(ring, [0.9, 0.5], image, near, text));
});

test("a text label is hit within its box", () => {
  const label = { kind: "text", points: [0.1, 0.1, 0.1, 0.1], label: "Lesion" };
  assert.ok(hits(label, [0.3, 0.2], image, near, text));
  assert.ok(!hits(label, [0.5, 0.2], image, near, text));
});

test("a move stops at the image's edge and keeps the shape", () => {
  close([moved([0.1, 0.2, 0.3, 0.4], 0.1, 0.1)], [[0.2, 0.3, 0.4, 0.5]]);
  close([moved([0.1, 0.2, 0.8, 0.4], 0.5, -0.5)], [[0.3, 0, 1, 0.2]]);
});

test("clamp keeps a fraction on the image", () => {
  assert.equal(clamp(-0.2), 0);
  assert.equal(clamp(1.3), 1);
  assert.equal(clamp(0.4), 0.4);
});

test("a label stays inside the pane", () => {
  assert.deepEqual(labelInside(-20, 2, 50, 300, 200), [4, 16]);
  assert.deepEqual(labelInside(290, 400, 50, 300, 200), [246, 196]);
  assert.deepEqual(labelInside(100, 100, 50, 300, 200), [100, 100]);
});
