// Deep links: a view (series, slice, window, zoom, and an arrow to pick out: mark) to and from a query string, and the Markdown link a
// comment carries to it. Pure: no DOM.

import { clampZoom } from "./geometry.js";

const KEYS = ["series", "slice", "wl", "ww", "zoom", "mark"];

// "?key=value&…" from a state object, in its key order.
export function queryString(state) {
  return "?" + Object.keys(state).map((key) => key + "=" + encodeURIComponent(state[key])).join("&");
}

// Read a deep link's view from a query string: series, slice, wl, ww, zoom, mark; null without a series.
export function stateFromQuery(search) {
  const params = new URLSearchParams(search);
  if (!params.has("series")) return null;
  const state = {};
  KEYS.forEach((key) => {
    if (params.has(key)) state[key] = params.get(key);
  });
  return state;
}

// A pane's view as a state: the series, the slice counted from 1, the window and zoom when set.
export function paneState(seriesId, index, win, zoom) {
  const state = { series: seriesId, slice: index + 1 };
  if (win) {
    state.wl = Math.round(win.center);
    state.ww = Math.round(win.width);
  }
  if (zoom) state.zoom = Math.round(zoom * 100) / 100;
  return state;
}

// What a state asks of a series' images: {index, window, zoom, mark}, each undefined when not asked or not valid.
export function viewFromState(state, images) {
  let index;
  if (state.image) index = images.findIndex((image) => String(image.id) === String(state.image));
  const slice = parseInt(state.slice, 10);
  if (slice > 0) index = slice - 1;
  const win = isFinite(state.ww) && isFinite(state.wl) && Number(state.ww) > 0
    ? { center: Number(state.wl), width: Number(state.ww) } : undefined;
  const zoom = Number(state.zoom) > 0 ? clampZoom(Number(state.zoom)) : undefined;
  const mark = parseInt(state.mark, 10) > 0 ? parseInt(state.mark, 10) : undefined;
  return { index: index === undefined || index < 0 ? undefined : index, window: win, zoom, mark };
}

// The Markdown link to a view: "[label, image k of n](case URL?state)"; brackets and backslashes leave the label.
export function citationMarkdown(label, state, count, caseUrl) {
  const text = label.replace(/[[\]\\]/g, "") + ", image " + state.slice + " of " + count;
  return "[" + text + "](" + caseUrl + queryString(state) + ")";
}

// The arrow a link to this slice picks out: its first arrow, else its first mark; undefined when it has none.
export function markOf(annotations) {
  const marks = annotations || [];
  const chosen = marks.find((mark) => mark.kind === "arrow") || marks[0];
  return chosen && chosen.id !== undefined ? chosen.id : undefined;
}
