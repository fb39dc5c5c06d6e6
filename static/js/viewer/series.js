// Stack loading: a series' slices, the current one and its neighbours first. Values stream in one response,
// nearest the reader's slice first, while the slice on screen (and one the reader jumps to) is fetched on its
// own; pictures for series without values.

import { inflate, valueFlags } from "./inflate.js";
import { RecordReader, loadOrder } from "./records.js";

const IN_FLIGHT = 6; // concurrent slice requests per series

// One slice's values: the same record as in a stream (flags from the headers), inflated the same way.
function fetchValues(url) {
  return fetch(url, { credentials: "same-origin" }).then((response) => {
    if (!response.ok) throw new Error("values " + response.status);
    const flags = valueFlags(response.headers.get("X-Values-Type"), response.headers.get("X-Values-Inverted"));
    return response.arrayBuffer().then((buffer) => inflate(new Uint8Array(buffer), flags));
  });
}

function fetchPicture(url) {
  const picture = new Image();
  // Read back from a canvas (render.js): on object storage with signed-URL redirects the bucket's CORS rule
  // allows it (docs/storage.md); same-origin pictures are unaffected.
  picture.crossOrigin = "anonymous";
  picture.src = url;
  return picture.decode().then(() => picture);
}

export class SeriesData {
  constructor(data) {
    const count = data.images.length;
    this.data = data;
    this.images = data.images;
    this.values = new Array(count);
    this.pictures = new Array(count);
    this.lumas = new Array(count);
    this.started = new Array(count);
    this.queue = [];
    this.inFlight = 0;
    this.loaded = 0;
    this.failed = 0;
    this.streaming = false;
    this.stopper = null;
    this.picturing = new Array(count);
    this.listeners = [];
    this.byValues = Boolean(globalThis.DecompressionStream) && data.images.every((image) => image.values);
  }

  prioritize(index) {
    if (this.byValues && !this.streaming && this.data.values && this.images.length > 1) {
      this.stream(index);
      this.started[index] = true; // the stream's first record
    }
    const order = loadOrder(index, this.images.length);
    const started = this.started;
    // While the stream runs, only the slice on screen is worth a request of its own.
    this.queue = order.slice(0, this.streaming ? 1 : order.length).filter((i) => !started[i]);
    if (this.byValues && !this.values[index]) this.fetchPicture(index).catch(() => {});
    this.pump();
  }

  // The web image: the picture of a series without values, and the first paint of one with them.
  fetchPicture(index) {
    if (!this.picturing[index]) {
      this.picturing[index] = fetchPicture(this.images[index].src).then((picture) => {
        this.pictures[index] = picture;
        this.notify(index);
      });
    }
    return this.picturing[index];
  }

  store(index, values) {
    if (this.values[index]) return;
    this.values[index] = values;
    this.loaded += 1;
    this.notify(index);
  }

  pump() {
    while (this.inFlight < IN_FLIGHT && this.queue.length) {
      const index = this.queue.shift();
      this.started[index] = true;
      this.inFlight += 1;
      const request = this.byValues
        ? fetchValues(this.images[index].values).then((values) => this.store(index, values))
        : this.fetchPicture(index).then(() => { this.loaded += 1; });
      request.catch(() => {
        if (!this.values[index] && !this.pictures[index]) this.failed += 1;
      }).then(() => {
        this.inFlight -= 1;
        this.notify(index);
        this.pump();
      });
    }
  }

  stream(around) {
    const indexOf = new Map(this.images.map((image, i) => [image.id, i]));
    this.streaming = true;
    this.stopper = new AbortController();
    const signal = this.stopper.signal;
    const records = new RecordReader((record) => {
      const index = indexOf.get(record.id);
      if (index === undefined || !record.bytes.length) return;
      this.started[index] = true;
      inflate(record.bytes, record.flags).then((values) => this.store(index, values), () => this.lost(index));
    });
    fetch(this.data.values + "?around=" + around, { credentials: "same-origin", signal }).then((response) => {
      if (!response.ok) throw new Error("series values " + response.status);
      const reader = response.body.getReader();
      const read = () => reader.read().then((step) => {
        if (step.done) return undefined;
        records.push(step.value);
        return read();
      });
      return read();
    }).catch(() => {
      this.streaming = false;
      if (signal.aborted) return;
      // Slice by slice, then.
      this.data = { ...this.data, values: null };
      this.started = this.started.map((started, i) => Boolean(this.values[i]));
      this.prioritize(around);
    });
  }

  // A streamed slice that could not be inflated: ask for it on its own.
  lost(index) {
    this.started[index] = false;
    this.queue.push(index);
    this.pump();
  }

  // Stop receiving the stack (the viewer closed); what arrived is kept, the rest is asked for on return.
  stop() {
    if (this.stopper) this.stopper.abort();
    this.started = this.started.map((started, i) => Boolean(this.values[i]));
    this.queue = [];
  }

  notify(index) {
    this.listeners.forEach((listener) => listener(index));
  }
}
