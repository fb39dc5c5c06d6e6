import assert from "node:assert/strict";
import { test } from "node:test";

import {
  area, circleFromDrag, closesPolygon, insideCircle, insidePolygon, polygonProblem, rounded, sliceRangeWith,
} from "../../static/js/target-geometry.js";

const square = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
const cShape = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.35], [0.35, 0.35], [0.35, 0.65], [0.8, 0.65], [0.8, 0.8], [0.2, 0.8]];

test("a circle is dragged from its centre; its radius is a fraction of the width", () => {
  assert.deepEqual(circleFromDrag([0.5, 0.5], [0.6, 0.5], 1), { x: 0.5, y: 0.5, radius: 0.09999999999999998 });
  assert.equal(rounded(circleFromDrag([0.5, 0.5], [0.5, 0.55], 2).radius), 0.1, "a tall image: height counts double");
  assert.equal(circleFromDrag([0.5, 0.5], [0.5, 0.5], 1).radius, 0.005, "no smaller than the server allows");
  assert.equal(circleFromDrag([0, 0], [1, 1], 1).radius, 0.5, "no larger either");
});

test("a point is inside a circle as the server marks it", () => {
  const circle = { x: 0.5, y: 0.5, radius: 0.1 };
  assert.ok(insideCircle(circle, [0.57, 0.57], 1));
  assert.ok(!insideCircle(circle, [0.58, 0.58], 1));
  assert.ok(!insideCircle(circle, [0.5, 0.57], 2));
});

test("a click inside, on the outline or outside a polygon", () => {
  assert.ok(insidePolygon(square, [0.4, 0.4]));
  assert.ok(insidePolygon(square, [0.6, 0.4]), "the outline counts");
  assert.ok(insidePolygon(square, [0.2, 0.2]), "a corner counts");
  assert.ok(!insidePolygon(square, [0.61, 0.4]));
  assert.ok(!insidePolygon(square, [0.2, 0.1]), "in line with an edge, beyond it");
});

test("a concave polygon leaves its mouth outside", () => {
  assert.ok(insidePolygon(cShape, [0.3, 0.5]));
  assert.ok(insidePolygon(cShape, [0.6, 0.25]));
  assert.ok(!insidePolygon(cShape, [0.5, 0.5]));
});

test("usable polygons pass and unusable ones get the server's reason", () => {
  assert.equal(polygonProblem(square), null);
  assert.equal(polygonProblem(cShape), null);
  assert.ok(Math.abs(area(square) - 0.16) < 1e-12);
  assert.match(polygonProblem([[0.2, 0.2], [0.6, 0.6], [0.6, 0.2], [0.2, 0.6]]), /crosses itself/);
  assert.match(polygonProblem([[0.2, 0.2], [0.8, 0.2], [0.5, 0.2], [0.5, 0.6]]), /crosses itself/);
  assert.match(polygonProblem([[0.2, 0.2], [0.5, 0.2], [0.8, 0.2]]), /crosses itself/);
  assert.match(polygonProblem([[0.2, 0.2], [0.6, 0.2]]), /3 to 64/);
  assert.match(polygonProblem([[0.2, 0.2], [1.2, 0.2], [0.5, 0.6]]), /on the image/);
  assert.match(polygonProblem([[0.2, 0.2], [0.2, 0.2], [0.5, 0.6]]), /same place/);
  assert.match(polygonProblem([[0.2, 0.2], [0.21, 0.2], [0.21, 0.21]]), /too small/);
});

test("a click near the first corner closes a polygon of three or more", () => {
  assert.ok(!closesPolygon([[0.2, 0.2], [0.6, 0.2]], [0.2, 0.2], 0.02, 1));
  assert.ok(closesPolygon(square.slice(0, 3), [0.21, 0.21], 0.02, 1));
  assert.ok(!closesPolygon(square.slice(0, 3), [0.25, 0.2], 0.02, 1));
});

test("the slices that count widen to hold the slice the target is drawn on", () => {
  assert.deepEqual(sliceRangeWith(null, null, 7), [7, 7]);
  assert.deepEqual(sliceRangeWith(5, 9, 7), [5, 9]);
  assert.deepEqual(sliceRangeWith(5, 9, 12), [5, 12]);
  assert.deepEqual(sliceRangeWith(5, null, 3), [3, 5]);
});
