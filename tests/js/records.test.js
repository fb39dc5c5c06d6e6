import assert from "node:assert/strict";
import { test } from "node:test";

import { HEADER_BYTES, RecordReader, loadOrder } from "../../static/js/viewer/records.js";

function record(id, flags, bytes) {
  const out = new Uint8Array(HEADER_BYTES + bytes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, id, true);
  view.setUint32(4, bytes.length, true);
  out[8] = flags;
  out.set(bytes, HEADER_BYTES);
  return out;
}

const stream = new Uint8Array([
  ...record(70000, 1, [1, 2, 3]), ...record(5, 2, []), ...record(6, 0, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
]);

function read(chunks) {
  const got = [];
  const reader = new RecordReader((item) => got.push({ id: item.id, flags: item.flags, bytes: Array.from(item.bytes) }));
  chunks.forEach((chunk) => reader.push(chunk));
  return got;
}

const expected = [
  { id: 70000, flags: 1, bytes: [1, 2, 3] },
  { id: 5, flags: 2, bytes: [] },
  { id: 6, flags: 0, bytes: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0] },
];

test("records are read from one chunk", () => {
  assert.deepEqual(read([stream]), expected);
});

test("records are read however the stream is cut", () => {
  for (let size = 1; size <= stream.length; size += 1) {
    const chunks = [];
    for (let start = 0; start < stream.length; start += size) chunks.push(stream.subarray(start, start + size));
    assert.deepEqual(read(chunks), expected, "chunks of " + size);
  }
});

test("a record cut short waits for the rest", () => {
  assert.deepEqual(read([stream.subarray(0, 11)]), []);
});

test("slices load from the reader's outwards, the next before the previous", () => {
  assert.deepEqual(loadOrder(2, 6), [2, 3, 1, 4, 0, 5]);
  assert.deepEqual(loadOrder(0, 3), [0, 1, 2]);
  assert.deepEqual(loadOrder(2, 3), [2, 1, 0]);
  assert.deepEqual(loadOrder(0, 0), []);
});
