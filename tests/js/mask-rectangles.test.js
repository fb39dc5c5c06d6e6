import assert from "node:assert/strict";
import { test } from "node:test";

import { between, formatRectangles, isDrawn, parseRectangles } from "../../static/js/mask-rectangles.js";

test("the field's rectangles are read, parts that are not four integers dropped", () => {
  assert.deepEqual(parseRectangles("1,2,30,40; 5, 6, 7, 8;x,1,2,3;1,2,3"), [[1, 2, 30, 40], [5, 6, 7, 8]]);
  assert.deepEqual(parseRectangles(""), []);
});

test("rectangles are written back as the field holds them and read again unchanged", () => {
  const rectangles = [[1, 2, 30, 40], [5, 6, 7, 8]];
  assert.equal(formatRectangles(rectangles), "1,2,30,40; 5,6,7,8");
  assert.deepEqual(parseRectangles(formatRectangles(rectangles)), rectangles);
  assert.equal(formatRectangles([]), "");
});

test("a rectangle is the same whichever way it is dragged", () => {
  assert.deepEqual(between([50, 10], [20, 40]), [20, 10, 30, 30]);
  assert.deepEqual(between([20, 40], [50, 10]), [20, 10, 30, 30]);
});

test("a drag of three pixels or less either way is a click", () => {
  assert.ok(isDrawn([0, 0, 3, 3]));
  assert.ok(!isDrawn([0, 0, 2, 30]));
  assert.ok(!isDrawn([0, 0, 30, 2]));
});
