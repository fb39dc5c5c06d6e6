import assert from "node:assert/strict";
import { test } from "node:test";

import {
  afterInjection, directionLetters, edgeLetters, positionText, sliceNormal,
} from "../../static/js/viewer/orientation.js";

// Expected letters as PS3.3 C.7.6.1.1.1 and any radiologist reads them: the patient's right on the viewer's
// left in an axial or coronal image seen from the feet or the front.
test("an axial slice has R on the left, L on the right, A at the top and P at the bottom", () => {
  assert.deepEqual(edgeLetters([1, 0, 0, 0, 1, 0]), { left: "R", right: "L", top: "A", bottom: "P" });
});

test("a coronal slice has the head at the top and the feet at the bottom", () => {
  assert.deepEqual(edgeLetters([1, 0, 0, 0, 0, -1]), { left: "R", right: "L", top: "H", bottom: "F" });
});

test("a sagittal slice has anterior on the left", () => {
  assert.deepEqual(edgeLetters([0, 1, 0, 0, 0, -1]), { left: "A", right: "P", top: "H", bottom: "F" });
});

test("an oblique direction names its larger component first", () => {
  assert.equal(directionLetters([0.8, 0, -0.6]), "LF");
  assert.equal(directionLetters([-0.6, 0.8, 0]), "PR");
});

test("a slight tilt reads as the plane it is closest to", () => {
  const tilt = Math.sin((10 * Math.PI) / 180);
  assert.equal(directionLetters([Math.cos((10 * Math.PI) / 180), 0, tilt]), "L");
});

test("no orientation gives no letters", () => {
  assert.equal(edgeLetters(null), null);
  assert.equal(edgeLetters([1, 0, 0]), null);
});

test("the slice normal is the cross product of the row and column directions", () => {
  assert.deepEqual(sliceNormal([1, 0, 0, 0, 1, 0]), [0, 0, 1]);
  assert.deepEqual(sliceNormal([1, 0, 0, 0, 0, -1]).map((component) => component + 0), [0, 1, 0]);
});

test("an axial slice below the origin is read as F, one in front of it on a coronal as A", () => {
  assert.equal(positionText(-327, [1, 0, 0, 0, 1, 0]), "F 327.0 mm");
  assert.equal(positionText(12.25, [1, 0, 0, 0, 1, 0]), "H 12.3 mm");
  assert.equal(positionText(-40, [1, 0, 0, 0, 0, -1]), "A 40.0 mm");
});

test("a position without orientation is a bare number, none at all is empty", () => {
  assert.equal(positionText(-5, null), "Position -5.0 mm");
  assert.equal(positionText(null, [1, 0, 0, 0, 1, 0]), "");
});

test("times after injection read in seconds, minutes, then hours and minutes", () => {
  assert.equal(afterInjection(0), "0 s");
  assert.equal(afterInjection(30), "30 s");
  assert.equal(afterInjection(300), "5 min");
  assert.equal(afterInjection(3 * 3600 + 600), "3 h 10 min");
  assert.equal(afterInjection(7200), "2 h");
  assert.equal(afterInjection(null), "");
});
