import assert from "node:assert/strict";
import { test } from "node:test";

import {
  GRID_LIMIT, MAX_ZOOM, MIN_ZOOM, clampZoom, fitScale, gridCell, gridShape, imageFraction, layout, linkedIndex,
  panForZoomAt, startIndex,
} from "../../static/js/viewer/geometry.js";

const size = { width: 512, height: 256 };
const box = { width: 800, height: 600 };

test("zoom stays between its limits", () => {
  assert.equal(clampZoom(100), MAX_ZOOM);
  assert.equal(clampZoom(0), MIN_ZOOM);
  assert.equal(clampZoom(2), 2);
});

test("fit scales to the tighter side, and to 1 in a pane not yet laid out", () => {
  assert.equal(fitScale(size, box), 800 / 512);
  assert.equal(fitScale(size, { width: 0, height: 0 }), 1);
});

test("the image is centred, then moved by the pan", () => {
  assert.deepEqual(layout(size, box, { x: 0, y: 0 }, 1), { scale: 1, x: 144, y: 172 });
  assert.deepEqual(layout(size, box, { x: 10, y: -5 }, 2), { scale: 2, x: -102, y: 39 });
});

test("zooming about a point keeps the image point under it in place", () => {
  const before = layout(size, box, { x: 30, y: 20 }, 1);
  const at = { x: 300, y: 250 };
  const fraction = imageFraction(at.x, at.y, before, size);
  const pan = panForZoomAt(before, 3, at.x, at.y, size, box);
  const after = layout(size, box, pan, 3);
  const again = imageFraction(at.x, at.y, after, size);
  assert.ok(Math.abs(again.x - fraction.x) < 1e-12 && Math.abs(again.y - fraction.y) < 1e-12);
});

test("a point maps to fractions of the image, and to null off it", () => {
  const place = layout(size, box, { x: 0, y: 0 }, 1);
  assert.deepEqual(imageFraction(144 + 256, 172 + 64, place, size), { x: 0.5, y: 0.25 });
  assert.equal(imageFraction(100, 300, place, size), null);
});

test("the grid's cells follow the pane's shape, with at most the grid limit of frames", () => {
  assert.deepEqual(gridShape(12, { width: 400, height: 300 }), { count: 12, columns: 4, rows: 3 });
  assert.deepEqual(gridShape(3, { width: 1000, height: 10 }), { count: 3, columns: 3, rows: 1 });
  assert.equal(gridShape(500, box).count, GRID_LIMIT);
});

test("a tap in the grid picks the frame under it, none past the last", () => {
  const shape = { count: 10, columns: 4, rows: 3 };
  assert.equal(gridCell(shape, { width: 400, height: 300 }, 10, 10), 0);
  assert.equal(gridCell(shape, { width: 400, height: 300 }, 150, 150), 5);
  assert.equal(gridCell(shape, { width: 400, height: 300 }, 350, 250), -1);
});

test("linked panes keep the same relative depth", () => {
  assert.equal(linkedIndex(0, 40, 20), 0);
  assert.equal(linkedIndex(39, 40, 20), 19);
  assert.equal(linkedIndex(20, 41, 11), 5);
  assert.equal(linkedIndex(0, 1, 30), 0);
});

test("the first slice shown: the one asked for, else the key image, else the middle of a stack", () => {
  const stack = Array.from({ length: 9 }, () => ({ key: false }));
  assert.equal(startIndex(stack, undefined), 4);
  assert.equal(startIndex(stack, 20), 8);
  stack[2].key = true;
  assert.equal(startIndex(stack, undefined), 2);
  assert.equal(startIndex([{}, {}, {}], undefined), 0);
});
