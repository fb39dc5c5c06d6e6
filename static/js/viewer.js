// The image viewer: stacks, live windowing from stored values, zoom and pan, cine and grid, two panes
// side by side, annotation overlay, deep links and keyboard help.  Framework-free; one viewer per page.
(function () {
  "use strict";

  var IN_FLIGHT = 6; // concurrent slice requests per series
  var PX_PER_SLICE = 8; // drag or swipe distance that moves one slice
  var MARK_COLOUR = "#ffd400";
  var MIN_ZOOM = 0.05;
  var MAX_ZOOM = 16;
  var GRID_LIMIT = 100; // frames drawn at once in a grid

  // ---- Loading: a series' slices, the current one and its neighbours first ----

  // One slice's values: the same record as in a stream (flags from the headers), inflated the same way.
  function fetchValues(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("values " + response.status);
      var flags = (response.headers.get("X-Values-Type") === "int16" ? 0 : 1)
        | (response.headers.get("X-Values-Inverted") === "1" ? 2 : 0);
      return response.arrayBuffer().then(function (buffer) { return inflate(new Uint8Array(buffer), flags); });
    });
  }

  function fetchPicture(url) {
    var picture = new Image();
    picture.src = url;
    return picture.decode().then(function () { return picture; });
  }

  function typed(buffer, flags) {
    var values = flags & 1 ? new Float32Array(buffer) : new Int16Array(buffer);
    values.inverted = Boolean(flags & 2);
    return values;
  }

  // Inflating a whole stack takes longer than receiving it: it runs in workers, one per core (at most
  // four), so the page stays free to draw; on the page itself where workers cannot start.
  var inflaters = null;
  var jobs = new Map();
  var jobCount = 0;
  function startInflaters(url) {
    var count = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
    try {
      inflaters = Array.from({ length: count }, function () {
        var worker = new Worker(url);
        worker.onerror = function () {
          // The script did not load or run: inflate here from now on, and redo what was waiting.
          var waiting = Array.from(jobs.values());
          jobs.clear();
          inflaters = [];
          waiting.forEach(function (job) { inflate(job.bytes, job.flags).then(job.resolve, job.reject); });
        };
        worker.onmessage = function (event) {
          var job = jobs.get(event.data.id);
          jobs.delete(event.data.id);
          if (event.data.failed) job.reject(new Error("inflate"));
          else job.resolve(typed(event.data.buffer, job.flags));
        };
        return worker;
      });
    } catch (error) {
      inflaters = [];
    }
  }
  function inflate(bytes, flags) {
    if (!inflaters || !inflaters.length) {
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      return new Response(stream).arrayBuffer().then(function (buffer) { return typed(buffer, flags); });
    }
    return new Promise(function (resolve, reject) {
      var id = jobCount;
      jobCount += 1;
      jobs.set(id, { resolve: resolve, reject: reject, flags: flags, bytes: bytes.slice() });
      inflaters[id % inflaters.length].postMessage({ id: id, bytes: bytes }, [bytes.buffer]);
    });
  }

  // A series' slices: values streamed in one response, nearest the reader's slice first, while the slice
  // on screen (and one the reader jumps to) is fetched on its own; pictures for series without values.
  function SeriesData(data) {
    this.data = data;
    this.images = data.images;
    this.values = new Array(data.images.length);
    this.pictures = new Array(data.images.length);
    this.lumas = new Array(data.images.length);
    this.started = new Array(data.images.length);
    this.queue = [];
    this.inFlight = 0;
    this.loaded = 0;
    this.failed = 0;
    this.streaming = false;
    this.stopper = null;
    this.picturing = new Array(data.images.length);
    this.listeners = [];
    this.byValues = Boolean(window.DecompressionStream) && data.images.every(function (image) { return image.values; });
  }
  SeriesData.prototype.prioritize = function (index) {
    if (this.byValues && !this.streaming && this.data.values && this.images.length > 1) {
      this.stream(index);
      this.started[index] = true; // the stream's first record
    }
    var order = [];
    for (var step = 0; step < this.images.length; step += 1) {
      var before = index - step, after = index + step;
      if (after < this.images.length) order.push(after);
      if (step && before >= 0) order.push(before);
    }
    var started = this.started;
    // While the stream runs, only the slice on screen is worth a request of its own.
    this.queue = order.slice(0, this.streaming ? 1 : order.length).filter(function (i) { return !started[i]; });
    if (this.byValues && !this.values[index]) this.fetchPicture(index).catch(function () {});
    this.pump();
  };
  // The web image: the picture of a series without values, and the first paint of one with them.
  SeriesData.prototype.fetchPicture = function (index) {
    var self = this;
    if (!this.picturing[index]) {
      this.picturing[index] = fetchPicture(this.images[index].src).then(function (picture) {
        self.pictures[index] = picture;
        self.notify(index);
      });
    }
    return this.picturing[index];
  };
  SeriesData.prototype.store = function (index, values) {
    if (this.values[index]) return;
    this.values[index] = values;
    this.loaded += 1;
    this.notify(index);
  };
  SeriesData.prototype.pump = function () {
    var self = this;
    while (this.inFlight < IN_FLIGHT && this.queue.length) {
      var index = this.queue.shift();
      this.started[index] = true;
      this.inFlight += 1;
      var request = this.byValues
        ? fetchValues(this.images[index].values).then(this.store.bind(this, index))
        : this.fetchPicture(index).then(function () { self.loaded += 1; });
      request.catch(function (i) {
        if (!self.values[i] && !self.pictures[i]) self.failed += 1;
      }.bind(null, index)).then(function (i) {
        self.inFlight -= 1;
        self.notify(i);
        self.pump();
      }.bind(null, index));
    }
  };
  SeriesData.prototype.stream = function (around) {
    var self = this;
    var indexOf = new Map(this.images.map(function (image, i) { return [image.id, i]; }));
    this.streaming = true;
    this.stopper = new AbortController();
    var signal = this.stopper.signal;
    fetch(this.data.values + "?around=" + around, { credentials: "same-origin", signal: signal }).then(function (response) {
      if (!response.ok) throw new Error("series values " + response.status);
      var reader = response.body.getReader();
      var chunks = [], buffered = 0, record = null;
      // Remove the first n bytes received, copying each byte once.
      function bytes(n) {
        var out = new Uint8Array(n), filled = 0;
        while (filled < n) {
          var head = chunks[0], size = Math.min(head.length, n - filled);
          out.set(head.subarray(0, size), filled);
          filled += size;
          if (size === head.length) chunks.shift(); else chunks[0] = head.subarray(size);
        }
        buffered -= n;
        return out;
      }
      function take(chunk) {
        chunks.push(chunk);
        buffered += chunk.length;
        for (;;) {
          if (!record) {
            if (buffered < 9) return;
            var header = bytes(9), view = new DataView(header.buffer);
            record = { index: indexOf.get(view.getUint32(0, true)), length: view.getUint32(4, true), flags: header[8] };
          }
          if (buffered < record.length) return;
          var data = bytes(record.length);
          if (record.index !== undefined && record.length) {
            self.started[record.index] = true;
            inflate(data, record.flags).then(self.store.bind(self, record.index), self.lost.bind(self, record.index));
          }
          record = null;
        }
      }
      function read() {
        return reader.read().then(function (step) {
          if (step.done) return;
          take(step.value);
          return read();
        });
      }
      return read();
    }).catch(function () {
      self.streaming = false;
      if (signal.aborted) return;
      // Slice by slice, then.
      self.data = Object.assign({}, self.data, { values: null });
      self.started = self.started.map(function (started, i) { return Boolean(self.values[i]); });
      self.prioritize(around);
    });
  };
  // A streamed slice that could not be inflated: ask for it on its own.
  SeriesData.prototype.lost = function (index) {
    this.started[index] = false;
    this.queue.push(index);
    this.pump();
  };
  // Stop receiving the stack (the viewer closed); what arrived is kept, the rest is asked for on return.
  SeriesData.prototype.stop = function () {
    if (this.stopper) this.stopper.abort();
    var values = this.values;
    this.started = this.started.map(function (started, i) { return Boolean(values[i]); });
    this.queue = [];
  };
  SeriesData.prototype.notify = function (index) {
    this.listeners.forEach(function (listener) { listener(index); });
  };

  // ---- Windowing: values (or an 8-bit picture's grey levels) through a lookup table into RGBA ----

  function grey(level) {
    return (0xff000000 | (level << 16) | (level << 8) | level) >>> 0;
  }

  function windowInto(out, values, win, invert) {
    var low = win.center - win.width / 2, scale = 255 / Math.max(win.width, 1e-6);
    var level;
    if (values instanceof Float32Array) {
      for (var p = 0; p < values.length; p += 1) {
        level = (values[p] - low) * scale;
        level = level < 0 ? 0 : level > 255 ? 255 : level | 0;
        out[p] = grey(invert ? 255 - level : level);
      }
      return;
    }
    var offset = values instanceof Int16Array ? 32768 : 0;
    var size = values instanceof Int16Array ? 65536 : 256;
    var table = new Uint32Array(size);
    for (var v = 0; v < size; v += 1) {
      level = (v - offset - low) * scale;
      level = level < 0 ? 0 : level > 255 ? 255 : level | 0;
      table[v] = grey(invert ? 255 - level : level);
    }
    for (var q = 0; q < values.length; q += 1) out[q] = table[values[q] + offset];
  }

  // A window from the values themselves: their 0.5th to 99.5th percentile, from a sample; for nuclear
  // medicine, whose counts are mostly background, from zero to the hottest pixel.
  function autoWindow(values, modality) {
    var step = Math.max(1, Math.floor(values.length / 20000));
    var sample = new Float64Array(Math.ceil(values.length / step));
    for (var p = 0, q = 0; p < values.length; p += step, q += 1) sample[q] = values[p];
    sample.sort();
    var low = sample[Math.floor(sample.length * 0.005)], high = sample[Math.floor(sample.length * 0.995)];
    if (modality === "NM") {
      low = 0;
      high = values.reduce(function (most, value) { return value > most ? value : most; }, 0);
    }
    return { center: (low + high) / 2, width: Math.max(1, high - low) };
  }

  // ---- One pane: a series on a canvas with its own slice, window, zoom and cine ----

  function Pane(viewer, element) {
    this.viewer = viewer;
    this.element = element;
    this.canvas = element.querySelector("canvas");
    this.context = this.canvas.getContext("2d");
    this.scratch = document.createElement("canvas");
    this.scratchContext = this.scratch.getContext("2d");
    this.seriesSelect = element.querySelector(".viewer-series");
    this.presetSelect = element.querySelector(".viewer-preset");
    this.playButton = element.querySelector(".viewer-play");
    this.fpsInput = element.querySelector(".viewer-fps");
    this.gridButton = element.querySelector(".viewer-grid");
    this.slider = element.querySelector(".viewer-slider");
    this.readouts = {
      counter: element.querySelector(".viewer-counter"),
      position: element.querySelector(".viewer-position"),
      window: element.querySelector(".viewer-window"),
      zoom: element.querySelector(".viewer-zoom"),
      loading: element.querySelector(".viewer-loading"),
    };
    this.series = null;
    this.index = 0;
    this.win = null; // null: set from the values once they arrive
    this.invert = false;
    this.zoom = null; // null: fit to the pane
    this.pan = { x: 0, y: 0 };
    this.grid = false;
    this.timer = null;
    this.frames = 0;
    this.pending = false;
    this.bind();
  }

  Pane.prototype.bind = function () {
    var self = this;
    this.seriesSelect.addEventListener("change", function () {
      self.show(self.viewer.seriesById(self.seriesSelect.value));
    });
    this.presetSelect.addEventListener("change", function () {
      var preset = self.presets()[Number(self.presetSelect.value)];
      if (preset && preset[1] !== null) self.setWindow(preset[1], preset[2]);
      else if (preset) self.autoWindow();
    });
    this.playButton.addEventListener("click", function () { self.togglePlay(); });
    this.fpsInput.addEventListener("change", function () { if (self.timer) { self.stop(); self.play(); } });
    this.gridButton.addEventListener("click", function () { self.toggleGrid(); });
    this.slider.addEventListener("input", function () { self.go(Number(self.slider.value) - 1, true); });
    this.element.addEventListener("pointerdown", function () { self.viewer.activate(self); }, true);
    this.element.addEventListener("focusin", function () { self.viewer.activate(self); });
    this.bindPointer();
    new ResizeObserver(function () { self.draw(); }).observe(this.canvas);
  };

  Pane.prototype.bindPointer = function () {
    var self = this, canvas = this.canvas;
    var pointers = new Map();
    var drag = null;
    var wheelRest = 0;
    canvas.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    canvas.addEventListener("pointerdown", function (event) {
      canvas.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 2) {
        drag = { pinch: self.pinchState(pointers) };
        return;
      }
      var tool = event.button === 2 ? "window" : event.button === 1 ? "pan" : self.viewer.tool;
      if (event.shiftKey && event.button === 0) tool = "pan";
      drag = {
        tool: tool, x: event.clientX, y: event.clientY, index: self.index,
        win: self.win && { center: self.win.center, width: self.win.width },
        pan: { x: self.pan.x, y: self.pan.y }, zoom: self.scale(),
      };
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!pointers.has(event.pointerId) || !drag) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (drag.pinch) {
        if (pointers.size === 2) self.pinch(drag.pinch, self.pinchState(pointers));
        return;
      }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (drag.tool === "window" && drag.win) {
        self.setWindow(drag.win.center + dy * (drag.win.width / 256), drag.win.width + dx * (drag.win.width / 256));
      } else if (drag.tool === "pan") {
        self.pan = { x: drag.pan.x + dx, y: drag.pan.y + dy };
        self.draw();
      } else if (drag.tool === "zoom") {
        self.zoomTo(drag.zoom * Math.pow(1.01, -dy));
      } else if (!self.grid) {
        self.go(drag.index + Math.round(dy / PX_PER_SLICE), true);
      }
    });
    function release(event) {
      var wasTap = drag && !drag.pinch && Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 4;
      pointers.delete(event.pointerId);
      if (wasTap && self.grid) self.pickCell(event);
      else if (wasTap && self.viewer.tool === "pick") self.mark(event);
      drag = pointers.size ? drag : null;
      if (drag && drag.pinch && pointers.size < 2) drag = null;
    }
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        self.zoomAt(self.scale() * Math.pow(1.002, -event.deltaY), event);
        return;
      }
      // A mouse notch moves one slice; a touchpad's many small deltas add up to one.
      wheelRest += event.deltaY;
      if (Math.abs(wheelRest) < 50 && Math.abs(event.deltaY) < 50) return;
      var step = Math.sign(wheelRest);
      wheelRest = 0;
      self.go(self.index + step, true);
    }, { passive: false });
  };

  Pane.prototype.pinchState = function (pointers) {
    var points = Array.from(pointers.values());
    var box = this.canvas.getBoundingClientRect();
    return {
      distance: Math.hypot(points[0].x - points[1].x, points[0].y - points[1].y),
      x: (points[0].x + points[1].x) / 2 - box.left,
      y: (points[0].y + points[1].y) / 2 - box.top,
      zoom: this.scale(),
      pan: { x: this.pan.x, y: this.pan.y },
    };
  };
  Pane.prototype.pinch = function (start, now) {
    this.pan = { x: start.pan.x + now.x - start.x, y: start.pan.y + now.y - start.y };
    this.zoomAt(start.zoom * now.distance / Math.max(start.distance, 1), { offsetX: now.x, offsetY: now.y });
  };

  Pane.prototype.show = function (series, options) {
    options = options || {};
    this.stop();
    if (this.series) {
      var old = this.listener;
      this.series.listeners = this.series.listeners.filter(function (listener) { return listener !== old; });
    }
    this.series = series;
    this.seriesSelect.value = String(series.data.id);
    var images = series.images;
    var start = options.index;
    if (start === undefined) {
      start = images.findIndex(function (image) { return image.key; });
      if (start < 0) start = images.length > 4 ? Math.floor(images.length / 2) : 0;
    }
    this.index = Math.max(0, Math.min(images.length - 1, start));
    this.zoom = options.zoom || null;
    this.pan = { x: 0, y: 0 };
    this.invert = false;
    this.grid = false;
    this.win = options.window || this.defaultWindow();
    this.buildPresets();
    this.slider.max = String(images.length);
    this.slider.hidden = images.length < 2;
    this.fpsInput.value = String(series.data.cine ? 4 : 10);
    this.playButton.disabled = this.gridButton.disabled = images.length < 2;
    this.element.classList.toggle("viewer-pane-cine", Boolean(series.data.cine));
    var self = this;
    this.listener = function (index) {
      self.progress();
      if (index === self.index || self.grid) self.draw();
    };
    series.listeners.push(this.listener);
    series.prioritize(this.index);
    this.progress();
    this.draw();
  };

  // The window stored with the image, else none yet (the values will set it), else the picture as it is.
  Pane.prototype.defaultWindow = function () {
    var image = this.series.images[this.index];
    if (!this.series.byValues) return { center: 127.5, width: 255 };
    return image.center !== null && image.window !== null ? { center: image.center, width: image.window } : null;
  };
  Pane.prototype.autoWindow = function () {
    var values = this.series.values[this.index];
    this.win = values ? autoWindow(values, this.series.data.modality) : null;
    this.draw();
  };
  Pane.prototype.presets = function () {
    if (!this.series.byValues) return [["Default", 127.5, 255]];
    var base = this.defaultWindow() || { center: null, width: null };
    // The server's presets for this stage (cases.imaging.render.PRESETS), the only table of them.
    var extra = (this.series.data.presets || []).map(function (preset) {
      return [preset.name, preset.center, preset.width];
    });
    return [["Default", base.center, base.width], ["Auto", null, null]].concat(extra);
  };
  Pane.prototype.buildPresets = function () {
    var select = this.presetSelect;
    select.textContent = "";
    this.presets().forEach(function (preset, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = preset[0];
      select.appendChild(option);
    });
    select.value = "0";
  };
  Pane.prototype.cyclePreset = function () {
    var count = this.presets().length;
    this.presetSelect.value = String((Number(this.presetSelect.value) + 1) % count);
    this.presetSelect.dispatchEvent(new Event("change"));
  };

  Pane.prototype.go = function (index, byReader) {
    if (!this.series) return;
    var last = this.series.images.length - 1;
    var target = Math.max(0, Math.min(last, index));
    if (target === this.index) return;
    this.index = target;
    this.series.prioritize(target);
    this.draw();
    if (byReader) this.viewer.scrolled(this);
  };
  Pane.prototype.setWindow = function (center, width) {
    this.win = { center: center, width: Math.max(1, width) };
    this.draw();
  };
  Pane.prototype.setInvert = function (invert) {
    this.invert = invert;
    this.draw();
  };
  Pane.prototype.reset = function () {
    this.win = this.defaultWindow();
    this.presetSelect.value = "0";
    this.invert = false;
    this.zoom = null;
    this.pan = { x: 0, y: 0 };
    this.draw();
  };

  Pane.prototype.size = function () {
    var image = this.series.images[this.index];
    return { width: image.width, height: image.height };
  };
  Pane.prototype.fitScale = function () {
    var size = this.size();
    return Math.min(this.canvas.clientWidth / size.width, this.canvas.clientHeight / size.height) || 1;
  };
  Pane.prototype.scale = function () {
    return this.zoom || this.fitScale();
  };
  Pane.prototype.zoomTo = function (zoom) {
    this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    this.draw();
  };
  Pane.prototype.zoomAt = function (zoom, event) {
    var before = this.layout();
    var x = event.offsetX, y = event.offsetY;
    var u = (x - before.x) / before.scale, v = (y - before.y) / before.scale;
    this.zoom = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
    var size = this.size();
    this.pan = {
      x: x - u * this.zoom - this.canvas.clientWidth / 2 + size.width * this.zoom / 2,
      y: y - v * this.zoom - this.canvas.clientHeight / 2 + size.height * this.zoom / 2,
    };
    this.draw();
  };
  Pane.prototype.fit = function () {
    this.zoom = null;
    this.pan = { x: 0, y: 0 };
    this.draw();
  };
  Pane.prototype.layout = function () {
    var size = this.size(), scale = this.scale();
    return {
      scale: scale,
      x: this.canvas.clientWidth / 2 + this.pan.x - size.width * scale / 2,
      y: this.canvas.clientHeight / 2 + this.pan.y - size.height * scale / 2,
    };
  };

  Pane.prototype.play = function () {
    if (!this.series || this.series.images.length < 2) return;
    var self = this;
    var fps = Math.max(1, Math.min(30, Number(this.fpsInput.value) || 4));
    this.fpsInput.value = String(fps);
    this.timer = setInterval(function () {
      self.go(self.index + 1 > self.series.images.length - 1 ? 0 : self.index + 1, true);
    }, 1000 / fps);
    this.playButton.setAttribute("aria-pressed", "true");
    this.playButton.textContent = "Pause";
  };
  Pane.prototype.stop = function () {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.playButton.setAttribute("aria-pressed", "false");
    this.playButton.textContent = "Play";
  };
  Pane.prototype.togglePlay = function () {
    if (this.timer) this.stop(); else this.play();
  };
  Pane.prototype.toggleGrid = function () {
    if (!this.series || this.series.images.length < 2) return;
    this.grid = !this.grid;
    this.gridButton.setAttribute("aria-pressed", String(this.grid));
    if (this.grid) {
      this.stop();
      this.series.prioritize(0);
    }
    this.draw();
  };
  Pane.prototype.gridShape = function () {
    var count = Math.min(this.series.images.length, GRID_LIMIT);
    var columns = Math.ceil(Math.sqrt(count * this.canvas.clientWidth / Math.max(this.canvas.clientHeight, 1)));
    columns = Math.max(1, Math.min(count, columns));
    return { count: count, columns: columns, rows: Math.ceil(count / columns) };
  };
  Pane.prototype.pickCell = function (event) {
    var shape = this.gridShape();
    var box = this.canvas.getBoundingClientRect();
    var column = Math.floor((event.clientX - box.left) / (box.width / shape.columns));
    var row = Math.floor((event.clientY - box.top) / (box.height / shape.rows));
    var index = row * shape.columns + column;
    if (index < shape.count) {
      this.grid = false;
      this.gridButton.setAttribute("aria-pressed", "false");
      this.index = -1;
      this.go(index, true);
    }
  };

  // Mark a point of the slice on screen, in fractions of the image, for a click-the-finding question.
  Pane.prototype.mark = function (event) {
    var layout = this.layout(), size = this.size(), box = this.canvas.getBoundingClientRect();
    var x = (event.clientX - box.left - layout.x) / layout.scale / size.width;
    var y = (event.clientY - box.top - layout.y) / layout.scale / size.height;
    if (x < 0 || x > 1 || y < 0 || y > 1) return;
    this.picked = { x: x, y: y, slice: this.index + 1 };
    this.draw();
    if (this.viewer.onPick) this.viewer.onPick(this.picked);
  };

  Pane.prototype.progress = function () {
    var series = this.series;
    var total = series.images.length;
    this.element.dataset.loaded = String(series.loaded);
    this.element.dataset.total = String(total);
    var message = "";
    if (series.loaded + series.failed < total) message = "Loading " + series.loaded + " / " + total;
    else if (series.loaded < total) message = (total - series.loaded) + " images could not be loaded";
    this.readouts.loading.textContent = message;
  };

  // Draw at most once per animation frame, however many events asked for it.
  Pane.prototype.draw = function () {
    if (this.pending || !this.series) return;
    this.pending = true;
    var self = this;
    requestAnimationFrame(function () {
      self.pending = false;
      self.render();
    });
  };

  Pane.prototype.bitmap = function (index) {
    var series = this.series, image = series.images[index];
    var values = series.values[index];
    if (!values && !series.byValues) {
      var picture = series.pictures[index];
      if (!picture) return null;
      var identity = this.win.center === 127.5 && this.win.width === 255 && !this.invert;
      if (identity) return picture;
      values = series.lumas[index] || (series.lumas[index] = this.luma(picture));
    }
    if (!values) return series.pictures[index] || null; // the web image, until the values arrive
    if (!this.win) this.win = autoWindow(values, series.data.modality);
    var scratch = this.scratch;
    if (scratch.width !== image.width || scratch.height !== image.height) {
      scratch.width = image.width;
      scratch.height = image.height;
      this.imageData = null;
    }
    if (!this.imageData) this.imageData = this.scratchContext.createImageData(image.width, image.height);
    windowInto(new Uint32Array(this.imageData.data.buffer), values, this.win, this.invert !== Boolean(values.inverted));
    this.scratchContext.putImageData(this.imageData, 0, 0);
    return scratch;
  };
  Pane.prototype.luma = function (picture) {
    var canvas = document.createElement("canvas");
    canvas.width = picture.naturalWidth;
    canvas.height = picture.naturalHeight;
    var context = canvas.getContext("2d");
    context.drawImage(picture, 0, 0);
    var rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
    var grey = new Uint8Array(canvas.width * canvas.height);
    for (var p = 0, q = 0; p < grey.length; p += 1, q += 4) grey[p] = (rgba[q] * 77 + rgba[q + 1] * 150 + rgba[q + 2] * 29) >> 8;
    return grey;
  };

  Pane.prototype.render = function () {
    var canvas = this.canvas, context = this.context;
    var ratio = window.devicePixelRatio || 1;
    var width = Math.round(canvas.clientWidth * ratio), height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = "#000";
    context.fillRect(0, 0, width, height);
    if (this.grid) this.renderGrid(ratio);
    else this.renderSlice(ratio);
    this.frames += 1;
    canvas.dataset.frames = String(this.frames);
    this.updateReadouts();
  };
  Pane.prototype.renderSlice = function (ratio) {
    var context = this.context, layout = this.layout();
    var size = this.size();
    var bitmap = this.bitmap(this.index);
    if (bitmap) {
      context.imageSmoothingEnabled = layout.scale < 3;
      context.setTransform(ratio * layout.scale, 0, 0, ratio * layout.scale, ratio * layout.x, ratio * layout.y);
      context.drawImage(bitmap, 0, 0, size.width, size.height);
      this.canvas.dataset.slice = String(this.index + 1);
    }
    if (this.viewer.marks) this.renderMarks(this.series.images[this.index].annotations, ratio, layout, size);
    if (this.picked && this.picked.slice === this.index + 1) this.renderPick(ratio, layout, size);
  };
  Pane.prototype.renderGrid = function (ratio) {
    var context = this.context, shape = this.gridShape();
    var cellWidth = this.canvas.clientWidth / shape.columns, cellHeight = this.canvas.clientHeight / shape.rows;
    context.font = Math.round(11 * ratio) + "px system-ui, sans-serif";
    for (var i = 0; i < shape.count; i += 1) {
      var image = this.series.images[i];
      var bitmap = this.bitmap(i);
      var scale = Math.min(cellWidth / image.width, cellHeight / image.height);
      var x = (i % shape.columns) * cellWidth + (cellWidth - image.width * scale) / 2;
      var y = Math.floor(i / shape.columns) * cellHeight + (cellHeight - image.height * scale) / 2;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      if (bitmap) context.drawImage(bitmap, x, y, image.width * scale, image.height * scale);
      context.fillStyle = i === this.index ? MARK_COLOUR : "#cfd8e3";
      context.fillText(String(i + 1), (i % shape.columns) * cellWidth + 4, Math.floor(i / shape.columns) * cellHeight + 14);
    }
  };
  Pane.prototype.renderMarks = function (marks, ratio, layout, size) {
    var context = this.context;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.strokeStyle = context.fillStyle = MARK_COLOUR;
    context.lineWidth = 2.5;
    context.lineJoin = context.lineCap = "round";
    context.font = "600 15px system-ui, sans-serif";
    context.shadowColor = "rgba(0, 0, 0, 0.9)";
    context.shadowBlur = 3;
    var width = this.canvas.clientWidth, height = this.canvas.clientHeight;
    // Labels stay inside the pane, whatever the zoom and the pane's width.
    function label(text, x, y) {
      var size = context.measureText(text).width;
      context.fillText(text, Math.max(4, Math.min(width - size - 4, x)), Math.max(16, Math.min(height - 4, y)));
    }
    marks.forEach(function (mark) {
      var x1 = layout.x + mark.points[0] * size.width * layout.scale, y1 = layout.y + mark.points[1] * size.height * layout.scale;
      var x2 = layout.x + mark.points[2] * size.width * layout.scale, y2 = layout.y + mark.points[3] * size.height * layout.scale;
      context.beginPath();
      if (mark.kind === "arrow") {
        var angle = Math.atan2(y2 - y1, x2 - x1), head = 12;
        context.moveTo(x1, y1);
        context.lineTo(x2, y2);
        context.moveTo(x2 - head * Math.cos(angle - 0.45), y2 - head * Math.sin(angle - 0.45));
        context.lineTo(x2, y2);
        context.lineTo(x2 - head * Math.cos(angle + 0.45), y2 - head * Math.sin(angle + 0.45));
        context.stroke();
        if (mark.label) label(mark.label, x1 + (x1 < x2 ? -4 - context.measureText(mark.label).width : 4), y1 + (y1 < y2 ? -4 : 16));
      } else if (mark.kind === "ellipse") {
        context.ellipse((x1 + x2) / 2, (y1 + y2) / 2, Math.abs(x2 - x1) / 2, Math.abs(y2 - y1) / 2, 0, 0, 2 * Math.PI);
        context.stroke();
        if (mark.label) label(mark.label, Math.max(x1, x2) + 4, Math.min(y1, y2) + 12);
      } else {
        label(mark.label, x1, y1);
      }
    });
    context.shadowBlur = 0;
  };

  Pane.prototype.renderPick = function (ratio, layout, size) {
    var context = this.context;
    var x = layout.x + this.picked.x * size.width * layout.scale, y = layout.y + this.picked.y * size.height * layout.scale;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.strokeStyle = "#4dd2ff";
    context.lineWidth = 2.5;
    context.beginPath();
    context.moveTo(x - 12, y);
    context.lineTo(x + 12, y);
    context.moveTo(x, y - 12);
    context.lineTo(x, y + 12);
    context.stroke();
  };

  Pane.prototype.updateReadouts = function () {
    var series = this.series, image = series.images[this.index];
    var total = series.images.length;
    this.readouts.counter.textContent = this.grid ? total + " frames" : (this.index + 1) + " / " + total;
    this.readouts.position.textContent = image.position === null ? "" : "Position " + image.position.toFixed(1) + " mm";
    this.readouts.window.textContent = this.win
      ? "W " + Math.round(this.win.width) + " L " + Math.round(this.win.center) + (this.invert ? " · inverted" : "") : "";
    this.readouts.zoom.textContent = this.grid ? "" : "Zoom " + Math.round(this.scale() * 100) + "%";
    this.slider.value = String(this.index + 1);
    this.canvas.setAttribute("aria-label", image.alt + (total > 1 ? ", image " + (this.index + 1) + " of " + total : ""));
    this.viewer.changed(this);
  };

  Pane.prototype.state = function () {
    var state = { series: this.series.data.id, slice: this.index + 1 };
    if (this.win) {
      state.wl = Math.round(this.win.center);
      state.ww = Math.round(this.win.width);
    }
    if (this.zoom) state.zoom = Math.round(this.zoom * 100) / 100;
    return state;
  };

  // ---- The viewer: toolbar, panes, keyboard, help, deep links ----

  function Viewer(root) {
    this.root = root;
    if (!inflaters && root.dataset.inflateUrl) startInflaters(root.dataset.inflateUrl);
    this.series = [];
    this.tool = "scroll";
    this.marks = true;
    this.linked = false;
    this.panes = Array.prototype.map.call(root.querySelectorAll(".viewer-pane"), function (element) {
      return new Pane(this, element);
    }, this);
    this.active = this.panes[0];
    this.help = root.querySelector(".viewer-help");
    this.status = root.querySelector(".viewer-status");
    this.bind();
  }

  Viewer.prototype.control = function (name) {
    return this.root.querySelector('[data-action="' + name + '"]');
  };

  Viewer.prototype.bind = function () {
    var self = this;
    var actions = {
      "tool-scroll": function () { self.setTool("scroll"); },
      "tool-window": function () { self.setTool("window"); },
      "tool-pan": function () { self.setTool("pan"); },
      "tool-zoom": function () { self.setTool("zoom"); },
      "tool-pick": function () { if (self.control("tool-pick")) self.setTool("pick"); },
      "zoom-in": function () { self.active.zoomTo(self.active.scale() * 1.25); },
      "zoom-out": function () { self.active.zoomTo(self.active.scale() / 1.25); },
      fit: function () { self.active.fit(); },
      actual: function () { self.active.zoomTo(1); },
      invert: function () { self.active.setInvert(!self.active.invert); },
      reset: function () { self.active.reset(); },
      marks: function () { self.toggleMarks(); },
      compare: function () { self.toggleCompare(); },
      link: function () { self.toggleLink(); },
      fullscreen: function () { self.toggleFullscreen(); },
      share: function () { self.share(); },
      help: function () { self.toggleHelp(); },
    };
    Object.keys(actions).forEach(function (name) {
      self.root.querySelectorAll('[data-action="' + name + '"]').forEach(function (button) {
        button.addEventListener("click", actions[name]);
      });
    });
    this.actions = actions;
    this.root.addEventListener("keydown", function (event) { self.key(event); });
    document.addEventListener("fullscreenchange", function () {
      self.control("fullscreen").setAttribute("aria-pressed", String(document.fullscreenElement === self.root));
      self.panes.forEach(function (pane) { pane.draw(); });
    });
  };

  Viewer.prototype.key = function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.matches("input:not([type=range]):not([type=checkbox]), select, textarea")) return;
    var pane = this.active;
    var keys = {
      ArrowUp: function () { pane.go(pane.index - 1, true); },
      ArrowLeft: function () { pane.go(pane.index - 1, true); },
      ArrowDown: function () { pane.go(pane.index + 1, true); },
      ArrowRight: function () { pane.go(pane.index + 1, true); },
      PageUp: function () { pane.go(pane.index - 10, true); },
      PageDown: function () { pane.go(pane.index + 10, true); },
      Home: function () { pane.go(0, true); },
      End: function () { pane.go(pane.series.images.length - 1, true); },
      " ": function () { pane.togglePlay(); },
      s: this.actions["tool-scroll"], w: this.actions["tool-window"],
      p: this.actions["tool-pan"], z: this.actions["tool-zoom"], m: this.actions["tool-pick"],
      "+": this.actions["zoom-in"], "=": this.actions["zoom-in"], "-": this.actions["zoom-out"],
      0: this.actions.fit, 1: this.actions.actual,
      i: this.actions.invert, r: this.actions.reset,
      a: this.actions.marks, A: this.actions.marks,
      v: function () { pane.cyclePreset(); },
      g: function () { pane.toggleGrid(); },
      c: this.actions.compare, l: this.actions.link,
      f: this.actions.fullscreen, "?": this.actions.help,
      Escape: this.help.hidden ? null : this.actions.help,
    };
    if (target.matches("input[type=range]") && /^(Arrow|Page|Home|End)/.test(event.key)) return;
    if (target.matches("button") && event.key === " ") return;
    var action = keys[event.key];
    if (!action || !pane.series) return;
    event.preventDefault();
    event.stopPropagation();
    action();
  };

  Viewer.prototype.setTool = function (tool) {
    this.tool = tool;
    ["scroll", "window", "pan", "zoom", "pick"].forEach(function (name) {
      var button = this.control("tool-" + name);
      if (button) button.setAttribute("aria-pressed", String(name === tool));
    }, this);
    this.root.dataset.tool = tool;
  };
  Viewer.prototype.toggleMarks = function () {
    this.marks = !this.marks;
    this.control("marks").setAttribute("aria-pressed", String(this.marks));
    this.say(this.marks ? "Annotations shown" : "Annotations hidden");
    this.panes.forEach(function (pane) { pane.draw(); });
  };
  Viewer.prototype.toggleCompare = function () {
    if (!this.control("compare")) return;
    var second = this.panes[1];
    var comparing = second.element.hidden;
    second.element.hidden = !comparing;
    this.control("compare").setAttribute("aria-pressed", String(comparing));
    this.control("link").hidden = !comparing;
    this.root.classList.toggle("viewer-comparing", comparing);
    if (comparing) {
      var current = this.panes[0].series;
      var others = this.series.filter(function (series) { return series !== current; });
      second.show(others[0] || current);
      this.activate(second);
    } else {
      second.stop();
      this.activate(this.panes[0]);
    }
    this.panes[0].draw();
  };
  Viewer.prototype.toggleLink = function () {
    if (!this.control("link")) return;
    this.linked = !this.linked;
    this.control("link").setAttribute("aria-pressed", String(this.linked));
    if (this.linked) this.scrolled(this.active);
  };
  // Linked panes keep the same relative depth: slice k of n in one shows slice k·(m−1)/(n−1) of m in the other.
  Viewer.prototype.scrolled = function (pane) {
    if (!this.linked || this.panes[1].element.hidden || this.syncing) return;
    var other = pane === this.panes[0] ? this.panes[1] : this.panes[0];
    var from = pane.series.images.length - 1, to = other.series.images.length - 1;
    this.syncing = true;
    other.go(from ? Math.round(pane.index * to / from) : 0, false);
    this.syncing = false;
  };
  Viewer.prototype.toggleFullscreen = function () {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (this.root.requestFullscreen) this.root.requestFullscreen().catch(function () {});
  };
  Viewer.prototype.toggleHelp = function () {
    this.help.hidden = !this.help.hidden;
    this.control("help").setAttribute("aria-expanded", String(!this.help.hidden));
    if (!this.help.hidden) this.help.focus();
    else this.active.canvas.focus();
  };
  Viewer.prototype.activate = function (pane) {
    this.active = pane;
    this.panes.forEach(function (each) { each.element.classList.toggle("viewer-pane-active", each === pane); });
  };
  Viewer.prototype.say = function (message) {
    this.status.textContent = message;
  };

  Viewer.prototype.seriesById = function (id) {
    return this.series.find(function (series) { return String(series.data.id) === String(id); });
  };

  // Open the viewer on data from the server; ``state`` names a series, slice, window and zoom (a deep link).
  Viewer.prototype.open = function (data, state) {
    var known = new Map(this.series.map(function (series) { return [series.data.id, series]; }));
    // Slices already loaded are kept; the description is the new one (a reveal adds annotations).
    this.series = data.series.map(function (series) {
      var loaded = known.get(series.id);
      if (!loaded || loaded.images.length !== series.images.length) return new SeriesData(series);
      loaded.data = series;
      loaded.images = series.images;
      return loaded;
    });
    this.panes.forEach(function (pane) {
      pane.seriesSelect.textContent = "";
      this.series.forEach(function (series) {
        var option = document.createElement("option");
        option.value = String(series.data.id);
        option.textContent = series.data.number + ". " + series.data.label + " (" + series.images.length + ")";
        pane.seriesSelect.appendChild(option);
      });
    }, this);
    state = state || {};
    var series = this.seriesById(state.series);
    if (state.series && !series) this.say("That view is not available to you yet; here is the first stage.");
    series = series || this.series[0];
    if (!series) {
      this.say("No images to show.");
      return;
    }
    var index;
    if (state.image) index = series.images.findIndex(function (image) { return String(image.id) === String(state.image); });
    var slice = parseInt(state.slice, 10);
    if (slice > 0) index = slice - 1;
    var win = isFinite(state.ww) && isFinite(state.wl) && Number(state.ww) > 0
      ? { center: Number(state.wl), width: Number(state.ww) } : undefined;
    var zoom = Number(state.zoom) > 0 ? Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, Number(state.zoom))) : undefined;
    this.panes[0].show(series, { index: index === undefined || index < 0 ? undefined : index, window: win, zoom: zoom });
    if (!this.panes[1].element.hidden) this.toggleCompare(); // its stage may be gone or new: start it afresh
    this.activate(this.panes[0]);
    this.panes[0].canvas.focus();
  };
  Viewer.prototype.close = function () {
    this.panes.forEach(function (pane) { pane.stop(); });
    this.series.forEach(function (series) { series.stop(); });
    this.help.hidden = true;
  };
  Viewer.prototype.changed = function (pane) {
    if (pane !== this.panes[0]) return;
    var separate = this.control("separate");
    if (separate) separate.href = this.root.dataset.separateUrl + this.query();
  };
  Viewer.prototype.query = function () {
    var state = this.panes[0].state();
    if (this.root.dataset.preview) state.preview = this.root.dataset.preview;
    return queryString(state);
  };
  // The active pane's view as a Markdown link a comment can carry (the case page opened on this image), or null
  // while no image is shown.
  Viewer.prototype.citation = function () {
    var pane = this.active;
    if (!pane.series) return null;
    var state = pane.state();
    var label = pane.series.data.label.replace(/[[\]\\]/g, "") + ", image " + state.slice + " of " + pane.series.images.length;
    return { state: state, markdown: "[" + label + "](" + this.root.dataset.caseUrl + queryString(state) + ")" };
  };
  Viewer.prototype.share = function () {
    var url = new URL(this.root.dataset.caseUrl + this.query(), window.location.href).href;
    var output = this.root.querySelector(".viewer-share-url");
    output.value = url;
    output.hidden = false;
    output.select();
    var self = this;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () { self.say("Link to this view copied."); }, function () {});
    } else {
      self.say("Link to this view selected: copy it with Ctrl+C.");
    }
  };

  function queryString(state) {
    return "?" + Object.keys(state).map(function (key) { return key + "=" + encodeURIComponent(state[key]); }).join("&");
  }

  // Read a deep link's view from a query string: series, slice, wl, ww, zoom.
  function stateFromQuery(search) {
    var params = new URLSearchParams(search);
    if (!params.has("series")) return null;
    var state = {};
    ["series", "slice", "wl", "ww", "zoom"].forEach(function (key) {
      if (params.has(key)) state[key] = params.get(key);
    });
    return state;
  }

  window.TeachingViewer = {
    create: function (root) { return new Viewer(root); },
    stateFromQuery: stateFromQuery,
    supported: Boolean(window.fetch && window.ResizeObserver),
  };
})();
