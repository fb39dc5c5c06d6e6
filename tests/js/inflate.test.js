import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateSync } from "node:zlib";

import { inflate, typed, valueFlags } from "../../static/js/viewer/inflate.js";

function compacted(values) {
  return new Uint8Array(deflateSync(new Uint8Array(values.buffer)));
}

test("the flags: float32 unless the type says int16, inverted when the header says 1", () => {
  assert.equal(valueFlags("int16", "0"), 0);
  assert.equal(valueFlags("float32", null), 1);
  assert.equal(valueFlags("int16", "1"), 2);
  assert.equal(valueFlags(null, "1"), 3);
});

test("typed views the bytes by the flags and marks MONOCHROME1", () => {
  const buffer = new Int16Array([1, -2]).buffer;
  const values = typed(buffer, 2);
  assert.ok(values instanceof Int16Array);
  assert.deepEqual(Array.from(values), [1, -2]);
  assert.equal(values.inverted, true);
  assert.ok(typed(new ArrayBuffer(8), 1) instanceof Float32Array);
});

test("inflating on the page gives back the stored int16 values", async () => {
  const stored = new Int16Array([-1024, 0, 40, 3071, -32768, 32767]);
  const values = await inflate(compacted(stored), valueFlags("int16", "0"));
  assert.deepEqual(Array.from(values), Array.from(stored));
  assert.equal(values.inverted, false);
});

test("inflating gives back float32 values", async () => {
  const stored = new Float32Array([0.25, -1.5, 1e6]);
  const values = await inflate(compacted(stored), valueFlags("float32", "1"));
  assert.ok(values instanceof Float32Array);
  assert.deepEqual(Array.from(values), Array.from(stored));
  assert.equal(values.inverted, true);
});

test("bytes that are not zlib data are refused", async () => {
  await assert.rejects(inflate(new Uint8Array([1, 2, 3, 4]), 0));
});
