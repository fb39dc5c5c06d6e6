// The viewer's keyboard: which action each key runs (the help dialog lists them). Pure: no DOM.

export const KEY_ACTIONS = Object.freeze({
  ArrowUp: "previous", ArrowLeft: "previous", ArrowDown: "next", ArrowRight: "next",
  PageUp: "back-10", PageDown: "forward-10", Home: "first", End: "last",
  " ": "play",
  s: "tool-scroll", w: "tool-window", p: "tool-pan", z: "tool-zoom", m: "tool-pick",
  "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", 0: "fit", 1: "actual",
  i: "invert", r: "reset", a: "marks", A: "marks",
  v: "preset", g: "grid", c: "compare", l: "link", f: "fullscreen", "?": "help",
});

// The action a key press runs, or null: none with Ctrl, Meta or Alt; a slider keeps its own arrow, page,
// Home and End keys and a button its space; Escape only closes the help.
export function keyAction(key, modifiers, target) {
  if (modifiers.ctrlKey || modifiers.metaKey || modifiers.altKey) return null;
  if (target.slider && /^(Arrow|Page|Home|End)/.test(key)) return null;
  if (target.button && key === " ") return null;
  if (key === "Escape") return target.helpOpen ? "help" : null;
  return Object.prototype.hasOwnProperty.call(KEY_ACTIONS, key) ? KEY_ACTIONS[key] : null;
}
