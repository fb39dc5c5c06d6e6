import assert from "node:assert/strict";
import { test } from "node:test";

import { megabytes } from "../../static/js/upload-size.js";

test("sizes show one decimal under 10 MB and whole megabytes above", () => {
  assert.equal(megabytes(0), "0.0 MB");
  assert.equal(megabytes(4_560_000), "4.6 MB");
  assert.equal(megabytes(126_400_000), "126 MB");
});
