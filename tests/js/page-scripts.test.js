// Every file of static/js is tested: imported by a unit test of this folder, or listed below with the browser
// test that drives a page serving it (a page's template or the authoring screen's Media names it, or a file
// so served imports it).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;
const STATIC = join(ROOT, "static/js");
const SKIPPED = new Set(["node_modules", "staticfiles", "media", "bench", "test-artifacts"]);

// The files no unit test imports, by their path under static/js, and the browser test that exercises each.
const BROWSER_TESTED = {
  "annotate.js": "tests/browser/test_annotation_authoring.py",
  "case.js": "tests/browser/test_case_reveal.py",
  "dicom_upload.js": "tests/browser/test_dicom_upload.py",
  "image_check.js": "tests/browser/test_mask_drawing.py",
  "ingest.js": "tests/browser/test_import_progress.py",
  "mask.js": "tests/browser/test_mask_drawing.py",
  "question-picker.js": "tests/browser/test_question_authoring.py",
  "quiz.js": "tests/browser/test_quiz.py",
  "stage_cards.js": "tests/browser/test_authoring_page.py",
  "target-drawer.js": "tests/browser/test_question_authoring.py",
  "viewer/pane.js": "tests/browser/test_viewer.py",
  "viewer/pointer.js": "tests/browser/test_viewer.py",
  "viewer/render.js": "tests/browser/test_viewer.py",
  "viewer/series.js": "tests/browser/test_viewer.py",
  "viewer/viewer.js": "tests/browser/test_viewer.py",
};

function files(folder, keep) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".") || SKIPPED.has(entry.name)) return [];
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return files(path, keep);
    return keep(entry.name) ? [path] : [];
  });
}

function scripts() {
  return files(STATIC, (name) => name.endsWith(".js")).map((path) => relative(STATIC, path)).sort();
}

const IMPORT = /from\s+"(\.{1,2}\/[^"]+\.js)"/g;
// A unit test imports a module, or reads a worker's script to run it (new URL("../../static/js/…")).
const NAMED = /["'](\.{1,2}\/[^"']+\.js)["']/g;

// The files a module names, by their path.
function imports(path, source, pattern = IMPORT) {
  return [...source.matchAll(pattern)].map((match) => join(dirname(path), match[1]));
}

function unitTested() {
  const tests = files(join(ROOT, "tests/js"), (name) => name.endsWith(".test.js"));
  return new Set(tests.flatMap((path) => imports(path, readFileSync(path, "utf8"), NAMED))
    .filter((path) => path.startsWith(STATIC + "/")).map((path) => relative(STATIC, path)));
}

// The files pages load: named in a template ({% static 'js/…' %}) or in a Python Media ("js/…"), and what
// those import.
function served() {
  const named = files(ROOT, (name) => name.endsWith(".html") || name.endsWith(".py"))
    .filter((path) => !/(^|\/)tests?\//.test(relative(ROOT, path))) // a test naming a file is no page loading it
    .flatMap((path) => [...readFileSync(path, "utf8").matchAll(/["']js\/([\w/.-]+\.js)["']/g)].map((m) => m[1]));
  const found = new Set();
  const todo = named.filter((name) => existsSync(join(STATIC, name)));
  while (todo.length) {
    const name = todo.pop();
    if (found.has(name)) continue;
    found.add(name);
    const path = join(STATIC, name);
    todo.push(...imports(path, readFileSync(path, "utf8")).map((imported) => relative(STATIC, imported)));
  }
  return found;
}

test("every static/js file is imported by a unit test or listed as driven by a browser test", () => {
  const tested = unitTested();
  const untested = scripts().filter((name) => !tested.has(name) && !(name in BROWSER_TESTED));
  assert.deepEqual(untested, [], "add a unit test (tests/js) or a browser test (tests/browser), and list it here");
});

test("each file listed is served to a page, and its browser test exists", () => {
  const loaded = served();
  for (const [name, browserTest] of Object.entries(BROWSER_TESTED)) {
    assert.ok(existsSync(join(STATIC, name)), `${name} is listed but is not in static/js`);
    assert.ok(loaded.has(name), `${name} is loaded by no page's template or Media, nor imported by a file that is`);
    const source = existsSync(join(ROOT, browserTest)) ? readFileSync(join(ROOT, browserTest), "utf8") : "";
    assert.match(source, /^def test_/m, `${browserTest}, named for ${name}, holds no test`);
  }
});
