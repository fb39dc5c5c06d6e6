import assert from "node:assert/strict";
import { test } from "node:test";

import { citationMarkdown, markOf, paneState, queryString, stateFromQuery, viewFromState } from "../../static/js/viewer/deeplink.js";
import { MAX_ZOOM } from "../../static/js/viewer/geometry.js";

const images = [{ id: 11 }, { id: 12 }, { id: 13 }];

test("a pane's state formats as a query and parses back", () => {
  const state = paneState(7, 41, { center: 40.4, width: 399.6 }, 1.234);
  assert.deepEqual(state, { series: 7, slice: 42, wl: 40, ww: 400, zoom: 1.23 });
  const query = queryString(state);
  assert.equal(query, "?series=7&slice=42&wl=40&ww=400&zoom=1.23");
  assert.deepEqual(stateFromQuery(query), { series: "7", slice: "42", wl: "40", ww: "400", zoom: "1.23" });
});

test("a state leaves out the window and zoom while they are not set", () => {
  assert.deepEqual(paneState(7, 0, null, null), { series: 7, slice: 1 });
});

test("values are escaped in the query", () => {
  assert.equal(queryString({ series: "a&b", preview: "resident" }), "?series=a%26b&preview=resident");
});

test("a query without a series is no deep link; other keys are dropped", () => {
  assert.equal(stateFromQuery("?slice=3"), null);
  assert.deepEqual(stateFromQuery("?series=2&page=4&preview=resident"), { series: "2" });
});

test("the view of a state: slice counted from 1, or the image by id", () => {
  assert.equal(viewFromState({ slice: "2" }, images).index, 1);
  assert.equal(viewFromState({ image: "13" }, images).index, 2);
  assert.equal(viewFromState({ image: "99" }, images).index, undefined);
  assert.equal(viewFromState({ slice: "0" }, images).index, undefined);
  assert.equal(viewFromState({ slice: "x" }, images).index, undefined);
});

test("the window is taken only when both numbers are valid and the width positive", () => {
  assert.deepEqual(viewFromState({ wl: "-600", ww: "1500" }, images).window, { center: -600, width: 1500 });
  assert.equal(viewFromState({ wl: "40", ww: "0" }, images).window, undefined);
  assert.equal(viewFromState({ wl: "x", ww: "400" }, images).window, undefined);
  assert.equal(viewFromState({ ww: "400" }, images).window, undefined);
});

test("the zoom is clamped to the viewer's range and ignored when not positive", () => {
  assert.equal(viewFromState({ zoom: "2.5" }, images).zoom, 2.5);
  assert.equal(viewFromState({ zoom: "1000" }, images).zoom, MAX_ZOOM);
  assert.equal(viewFromState({ zoom: "-1" }, images).zoom, undefined);
});

test("the citation is a Markdown link whose label cannot break out of its brackets", () => {
  const markdown = citationMarkdown("Axial [C+] \\ late", { series: 7, slice: 3 }, 40, "/cases/12/");
  assert.equal(markdown, "[Axial C+  late, image 3 of 40](/cases/12/?series=7&slice=3)");
});

test("a finding's link names its arrow as mark: parsed back as a number, ignored when not a positive id", () => {
  const state = stateFromQuery("?series=7&slice=3&wl=400&ww=1800&mark=9");
  assert.deepEqual(state, { series: "7", slice: "3", wl: "400", ww: "1800", mark: "9" });
  assert.equal(viewFromState(state, images).mark, 9);
  assert.equal(viewFromState({ mark: "0" }, images).mark, undefined);
  assert.equal(viewFromState({ mark: "x" }, images).mark, undefined);
});

test("a link to a slice picks its first arrow, else its first mark, else none", () => {
  const ellipse = { id: 4, kind: "ellipse" }, arrow = { id: 5, kind: "arrow" };
  assert.equal(markOf([ellipse, arrow]), 5);
  assert.equal(markOf([ellipse]), 4);
  assert.equal(markOf([]), undefined);
  assert.equal(markOf(undefined), undefined);
  assert.equal(markOf([{ kind: "arrow" }]), undefined); // a quiz's bare stage: no ids
});
