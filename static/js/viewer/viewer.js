// The viewer: toolbar, panes, compare and link, keyboard, help, share and deep links. Framework-free; one
// viewer per root element. case.js and quiz.js open it on the data the server sends.

import { citationMarkdown, markOf, paneState, queryString, stateFromQuery, viewFromState } from "./deeplink.js";
import { linkedIndex } from "./geometry.js";
import { startInflaters } from "./inflate.js";
import { keyAction } from "./keys.js";
import { Pane } from "./pane.js";
import { SeriesData } from "./series.js";

export { stateFromQuery };

// Whether this browser can run the viewer (otherwise the page keeps its plain images).
export const supported = Boolean(globalThis.fetch && globalThis.ResizeObserver);

const TOOLS = ["scroll", "window", "pan", "zoom", "pick"];

export class Viewer {
  constructor(root) {
    this.root = root;
    if (root.dataset.inflateUrl) startInflaters(root.dataset.inflateUrl);
    this.series = [];
    this.tool = "scroll";
    this.marks = true;
    this.linked = false;
    this.panes = Array.from(root.querySelectorAll(".viewer-pane"), (element) => new Pane(this, element));
    this.active = this.panes[0];
    this.help = root.querySelector(".viewer-help");
    this.status = root.querySelector(".viewer-status");
    this.bind();
  }

  control(name) {
    return this.root.querySelector('[data-action="' + name + '"]');
  }

  bind() {
    const actions = {
      "tool-scroll": () => this.setTool("scroll"),
      "tool-window": () => this.setTool("window"),
      "tool-pan": () => this.setTool("pan"),
      "tool-zoom": () => this.setTool("zoom"),
      "tool-pick": () => {
        if (this.control("tool-pick")) this.setTool("pick");
      },
      "zoom-in": () => this.active.zoomTo(this.active.scale() * 1.25),
      "zoom-out": () => this.active.zoomTo(this.active.scale() / 1.25),
      fit: () => this.active.fit(),
      actual: () => this.active.zoomTo(1),
      invert: () => this.active.setInvert(!this.active.invert),
      reset: () => this.active.reset(),
      marks: () => this.toggleMarks(),
      compare: () => this.toggleCompare(),
      link: () => this.toggleLink(),
      fullscreen: () => this.toggleFullscreen(),
      share: () => this.share(),
      help: () => this.toggleHelp(),
      tools: () => this.toggleTools(),
    };
    Object.keys(actions).forEach((name) => {
      this.root.querySelectorAll('[data-action="' + name + '"]').forEach((button) => {
        button.addEventListener("click", actions[name]);
      });
    });
    // Keys only: the stack and the active pane's own actions.
    const pane = () => this.active;
    this.actions = Object.assign({
      previous: () => pane().go(pane().index - 1, true),
      next: () => pane().go(pane().index + 1, true),
      "back-10": () => pane().go(pane().index - 10, true),
      "forward-10": () => pane().go(pane().index + 10, true),
      first: () => pane().go(0, true),
      last: () => pane().go(pane().series.images.length - 1, true),
      play: () => pane().togglePlay(),
      preset: () => pane().cyclePreset(),
      grid: () => pane().toggleGrid(),
    }, actions);
    this.root.addEventListener("keydown", (event) => this.key(event));
    document.addEventListener("fullscreenchange", () => {
      this.control("fullscreen").setAttribute("aria-pressed", String(document.fullscreenElement === this.root));
      this.panes.forEach((each) => each.draw());
    });
  }

  key(event) {
    const target = event.target;
    if (target.matches("input:not([type=range]):not([type=checkbox]), select, textarea")) return;
    const name = keyAction(event.key, event, {
      slider: target.matches("input[type=range]"),
      button: target.matches("button"),
      helpOpen: !this.help.hidden,
    });
    if (!name || !this.active.series) return;
    event.preventDefault();
    event.stopPropagation();
    this.actions[name]();
  }

  setTool(tool) {
    this.tool = tool;
    TOOLS.forEach((name) => {
      const button = this.control("tool-" + name);
      if (button) button.setAttribute("aria-pressed", String(name === tool));
    });
    this.root.dataset.tool = tool;
  }

  toggleMarks() {
    this.marks = !this.marks;
    this.control("marks").setAttribute("aria-pressed", String(this.marks));
    this.say(this.marks ? "Annotations shown" : "Annotations hidden");
    this.panes.forEach((pane) => pane.draw());
  }

  toggleCompare() {
    if (!this.control("compare")) return;
    const second = this.panes[1];
    const comparing = second.element.hidden;
    second.element.hidden = !comparing;
    this.control("compare").setAttribute("aria-pressed", String(comparing));
    this.control("link").hidden = !comparing;
    this.root.classList.toggle("viewer-comparing", comparing);
    if (comparing) {
      const current = this.panes[0].series;
      const others = this.series.filter((series) => series !== current);
      second.show(others[0] || current);
      this.activate(second);
    } else {
      second.stop();
      this.activate(this.panes[0]);
    }
    this.panes[0].draw();
  }

  toggleLink() {
    if (!this.control("link")) return;
    this.linked = !this.linked;
    this.control("link").setAttribute("aria-pressed", String(this.linked));
    if (this.linked) this.scrolled(this.active);
  }

  // Linked panes keep the same relative depth.
  scrolled(pane) {
    if (!this.linked || this.panes[1].element.hidden || this.syncing) return;
    const other = pane === this.panes[0] ? this.panes[1] : this.panes[0];
    this.syncing = true;
    other.go(linkedIndex(pane.index, pane.series.images.length, other.series.images.length), false);
    this.syncing = false;
  }

  toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (this.root.requestFullscreen) this.root.requestFullscreen().catch(() => {});
  }

  // On a phone the toolbar folds behind one button, leaving the screen to the image.
  toggleTools() {
    const open = this.root.querySelector(".viewer-toolbar").classList.toggle("is-open");
    this.control("tools").setAttribute("aria-expanded", String(open));
    this.panes.forEach((pane) => pane.draw());
  }

  toggleHelp() {
    this.help.hidden = !this.help.hidden;
    this.control("help").setAttribute("aria-expanded", String(!this.help.hidden));
    if (!this.help.hidden) this.help.focus();
    else this.active.canvas.focus();
  }

  activate(pane) {
    this.active = pane;
    this.panes.forEach((each) => each.element.classList.toggle("viewer-pane-active", each === pane));
  }

  say(message) {
    this.status.textContent = message;
  }

  seriesById(id) {
    return this.series.find((series) => String(series.data.id) === String(id));
  }

  // Open the viewer on data from the server; ``state`` names a series, slice, window and zoom (a deep link).
  open(data, state) {
    state = state || {};
    const known = new Map(this.series.map((series) => [series.data.id, series]));
    // Slices already loaded are kept; the description is the new one (a reveal adds annotations).
    this.series = data.series.map((series) => {
      const loaded = known.get(series.id);
      if (!loaded || loaded.images.length !== series.images.length) return new SeriesData(series);
      loaded.data = series;
      loaded.images = series.images;
      return loaded;
    });
    this.panes.forEach((pane) => {
      pane.seriesSelect.textContent = "";
      this.series.forEach((series) => {
        const option = document.createElement("option");
        option.value = String(series.data.id);
        option.textContent = series.data.number + ". " + series.data.label + " (" + series.images.length + ")";
        pane.seriesSelect.appendChild(option);
      });
    });
    let series = this.seriesById(state.series);
    if (state.series && !series) this.say("That view is not available to you yet; here is the first stage.");
    series = series || this.series[0];
    if (!series) {
      this.say("No images to show.");
      return;
    }
    const view = viewFromState(state, series.images);
    if (view.mark !== undefined && !this.marks) this.toggleMarks(); // a finding's link shows its arrow
    this.panes[0].show(series, view);
    if (!this.panes[1].element.hidden) this.toggleCompare(); // its stage may be gone or new: start it afresh
    this.activate(this.panes[0]);
    this.panes[0].canvas.focus();
  }

  close() {
    this.panes.forEach((pane) => pane.stop());
    this.series.forEach((series) => series.stop());
    this.help.hidden = true;
  }

  changed(pane) {
    if (pane !== this.panes[0]) return;
    const separate = this.control("separate");
    if (separate) separate.href = this.root.dataset.separateUrl + this.query();
  }

  query() {
    const state = this.panes[0].state();
    if (this.root.dataset.preview) state.preview = this.root.dataset.preview;
    return queryString(state);
  }

  // The active pane's view as a Markdown link a comment can carry (the case page opened on this image), or null
  // while no image is shown.
  citation() {
    const pane = this.active;
    if (!pane.series) return null;
    const state = pane.state();
    return {
      state,
      markdown: citationMarkdown(pane.series.data.label, state, pane.series.images.length, this.root.dataset.caseUrl),
    };
  }

  // The active pane's view as a finding's link stores it: series, slice, window and the slice's arrow; null
  // while no image is shown.
  linkState() {
    const pane = this.active;
    if (!pane.series) return null;
    const state = paneState(pane.series.data.id, pane.index, pane.win);
    const mark = markOf(pane.series.images[pane.index].annotations);
    if (mark !== undefined) state.mark = mark;
    return state;
  }

  share() {
    const url = new URL(this.root.dataset.caseUrl + this.query(), window.location.href).href;
    const output = this.root.querySelector(".viewer-share-url");
    output.value = url;
    output.hidden = false;
    output.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(() => this.say("Link to this view copied."), () => {});
    } else {
      this.say("Link to this view selected: copy it with Ctrl+C.");
    }
  }
}
