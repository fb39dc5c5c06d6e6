import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PICTURE_WINDOW, autoWindow, draggedWindow, grey, presetIndex, presetList, storedWindow, windowInto,
} from "../../static/js/viewer/windowing.js";

// The grey level of each RGBA pixel (little-endian: the low byte is red).
function levels(out) {
  return Array.from(out, (pixel) => pixel & 0xff);
}

test("grey is an opaque pixel with the level in red, green and blue", () => {
  assert.equal(grey(0), 0xff000000);
  assert.equal(grey(255), 0xffffffff);
  assert.equal(grey(0x12), 0xff121212);
});

test("a CT window maps its lower edge to black, its upper edge to white and clips beyond", () => {
  const values = new Int16Array([-1024, -160, 40, 239, 241, 3000]);
  const out = new Uint32Array(values.length);
  windowInto(out, values, { center: 40, width: 400 }, false);
  assert.deepEqual(levels(out), [0, 0, 127, 254, 255, 255]);
});

test("invert turns the scale over", () => {
  const values = new Int16Array([-160, 241]);
  const out = new Uint32Array(2);
  windowInto(out, values, { center: 40, width: 400 }, true);
  assert.deepEqual(levels(out), [255, 0]);
});

test("float values and 8-bit grey levels window like stored integers", () => {
  const floats = new Float32Array([0.5, 1.5, 2.5]);
  const out = new Uint32Array(3);
  windowInto(out, floats, { center: 1.5, width: 2 }, false);
  assert.deepEqual(levels(out), [0, 127, 255]);
  const bytes = new Uint8Array([0, 100, 255]);
  windowInto(out, bytes, PICTURE_WINDOW, false);
  assert.deepEqual(levels(out), [0, 100, 255]);
});

test("a zero width does not divide by zero: a step at the centre", () => {
  const out = new Uint32Array(2);
  windowInto(out, new Int16Array([99, 101]), { center: 100, width: 0 }, false);
  assert.deepEqual(levels(out), [0, 255]);
});

test("the automatic window spans the 0.5th to 99.5th percentile", () => {
  const values = new Int16Array(1000).map((_, i) => i);
  const win = autoWindow(values, "CT");
  assert.deepEqual(win, { center: (5 + 995) / 2, width: 990 });
});

test("the automatic window of nuclear medicine runs from zero to the hottest count", () => {
  const values = new Float32Array(1000).fill(3);
  values[10] = 5000;
  assert.deepEqual(autoWindow(values, "NM"), { center: 2500, width: 5000 });
});

test("the automatic window of a flat image is at least one wide", () => {
  assert.equal(autoWindow(new Int16Array(50).fill(7), "MR").width, 1);
});

test("the stored window is the image's, none when it has none, the picture's without values", () => {
  assert.deepEqual(storedWindow({ center: 40, window: 400 }, true), { center: 40, width: 400 });
  assert.equal(storedWindow({ center: null, window: null }, true), null);
  assert.deepEqual(storedWindow({ center: 40, window: 400 }, false), { center: 127.5, width: 255 });
});

test("the presets are the stored window, Auto, then the server's", () => {
  const server = [{ name: "Lung", center: -600, width: 1500 }];
  assert.deepEqual(presetList(true, { center: 40, width: 400 }, server), [
    ["Default", 40, 400], ["Auto", null, null], ["Lung", -600, 1500],
  ]);
  assert.deepEqual(presetList(true, null, undefined), [["Default", null, null], ["Auto", null, null]]);
  assert.deepEqual(presetList(false, null, server), [["Default", 127.5, 255]]);
});

test("a window drag moves the level with dy and the width with dx, never below one", () => {
  assert.deepEqual(draggedWindow({ center: 40, width: 256 }, 10, -20), { center: 20, width: 266 });
  assert.equal(draggedWindow({ center: 40, width: 256 }, -1000, 0).width, 1);
});

test("a stage opens in the preset its author named, else in the stored window", () => {
  const menu = presetList(true, { center: 40, width: 400 }, [
    { name: "Soft tissue", center: 40, width: 400 }, { name: "Bone", center: 400, width: 1800 },
  ]);
  assert.equal(presetIndex(menu, "Bone"), 3);
  assert.deepEqual(menu[presetIndex(menu, "Bone")], ["Bone", 400, 1800]);
  assert.equal(presetIndex(menu, ""), 0);
  assert.equal(presetIndex(menu, "Lung"), 0);
  assert.equal(presetIndex(menu, "Auto"), 0);
});
