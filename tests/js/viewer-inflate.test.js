import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { runInNewContext } from "node:vm";
import { deflateSync } from "node:zlib";

// The worker script as the browser runs it: a classic script whose global is ``self``.
async function worker() {
  const source = await readFile(new URL("../../static/js/viewer-inflate.js", import.meta.url), "utf8");
  const posted = [];
  let answered;
  const answer = new Promise((resolve) => { answered = resolve; });
  const self = {
    postMessage(message, transfer) {
      posted.push({ message, transfer });
      answered();
    },
  };
  runInNewContext(source, { self, Blob, Response, DecompressionStream });
  return { self, posted, answer };
}

test("the worker inflates a slice's bytes and hands the buffer back under the job's id", async () => {
  const { self, posted, answer } = await worker();
  const stored = new Int16Array([-1024, 0, 3071]);
  self.onmessage({ data: { id: 7, bytes: new Uint8Array(deflateSync(new Uint8Array(stored.buffer))) } });
  await answer;
  const [{ message, transfer }] = posted;
  assert.equal(message.id, 7);
  assert.deepEqual(Array.from(new Int16Array(message.buffer)), [-1024, 0, 3071]);
  assert.equal(transfer.length, 1);
  assert.equal(transfer[0], message.buffer, "the buffer is transferred, not copied");
});

test("the worker answers failed for bytes it cannot inflate", async () => {
  const { self, posted, answer } = await worker();
  self.onmessage({ data: { id: 3, bytes: new Uint8Array([1, 2, 3]) } });
  await answer;
  // The message was made in the worker's own realm: compare its fields.
  const { message } = posted[0];
  assert.deepEqual([message.id, message.failed, message.buffer], [3, true, undefined]);
});
