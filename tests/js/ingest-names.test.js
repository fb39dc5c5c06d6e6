import assert from "node:assert/strict";
import { test } from "node:test";

import { nameSuffix, reasonWithName } from "../../static/js/ingest-names.js";

const names = ["STUDY/IM0001", "STUDY/notes.txt", "STUDY/COPY"];

test("a file is named from the list the upload's answer holds, counted from 1", () => {
  assert.equal(nameSuffix(names, "2"), " (STUDY/notes.txt)");
  assert.equal(nameSuffix(names, 4), "");
  assert.equal(nameSuffix([], 1), "");
});

test("a duplicate's reason names the file it repeats", () => {
  assert.equal(
    reasonWithName("duplicate: the same object as file 1", names),
    "duplicate: the same object as file 1 (STUDY/IM0001)",
  );
  assert.equal(reasonWithName("duplicate: the same object as file 9", names), "duplicate: the same object as file 9");
  assert.equal(reasonWithName("refused: not a DICOM file", names), "refused: not a DICOM file");
  assert.equal(reasonWithName("file 2 is named in the middle", names), "file 2 is named in the middle");
});
