import assert from "node:assert/strict";
import { test } from "node:test";

import { KEY_ACTIONS, keyAction } from "../../static/js/viewer/keys.js";

const none = {};
const canvas = { slider: false, button: false, helpOpen: false };

test("keys run their actions on the image", () => {
  assert.equal(keyAction("ArrowDown", none, canvas), "next");
  assert.equal(keyAction("PageUp", none, canvas), "back-10");
  assert.equal(keyAction("w", none, canvas), "tool-window");
  assert.equal(keyAction("A", none, canvas), "marks");
  assert.equal(keyAction("0", none, canvas), "fit");
  assert.equal(keyAction(" ", none, canvas), "play");
});

test("keys with Ctrl, Meta or Alt, and keys the viewer has no use for, are left to the browser", () => {
  assert.equal(keyAction("c", { ctrlKey: true }, canvas), null);
  assert.equal(keyAction("r", { metaKey: true }, canvas), null);
  assert.equal(keyAction("ArrowDown", { altKey: true }, canvas), null);
  assert.equal(keyAction("q", none, canvas), null);
  assert.equal(keyAction("toString", none, canvas), null);
});

test("a slider keeps its own moves and a button its space", () => {
  assert.equal(keyAction("ArrowUp", none, { ...canvas, slider: true }), null);
  assert.equal(keyAction("End", none, { ...canvas, slider: true }), null);
  assert.equal(keyAction("i", none, { ...canvas, slider: true }), "invert");
  assert.equal(keyAction(" ", none, { ...canvas, button: true }), null);
});

test("Escape closes the help, and only the help", () => {
  assert.equal(keyAction("Escape", none, { ...canvas, helpOpen: true }), "help");
  assert.equal(keyAction("Escape", none, canvas), null);
});

test("the keys reach every action of the toolbar and the stack", () => {
  const names = [...new Set(Object.values(KEY_ACTIONS))].sort();
  assert.deepEqual(names, [
    "actual", "back-10", "compare", "first", "fit", "forward-10", "fullscreen", "grid", "help", "invert", "last",
    "link", "marks", "next", "play", "preset", "previous", "reset", "tool-pan", "tool-pick", "tool-scroll",
    "tool-window", "tool-zoom", "zoom-in", "zoom-out",
  ]);
});
