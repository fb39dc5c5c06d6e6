// Case page: reveal without a page load, and a lightbox for the images.
(function () {
  "use strict";

  function bindLightbox(root) {
    var box = document.querySelector(".lightbox");
    if (!box) return;
    var img = box.querySelector("img");
    var caption = box.querySelector("figcaption");
    var group = [];
    var index = 0;
    var opener = null;

    var alt = "";

    var viewer = makeViewer(box);

    function show(i) {
      index = (i + group.length) % group.length;
      var link = group[index];
      if (viewer.show(group, index)) {
        img.hidden = true;
        img.removeAttribute("src");
      } else {
        img.hidden = false;
        img.src = link.href;
      }
      var thumb = link.querySelector("img");
      img.alt = thumb ? thumb.alt : alt;
      caption.textContent = link.dataset.caption || "";
      box.querySelector(".lightbox-prev").hidden = group.length < 2;
      box.querySelector(".lightbox-next").hidden = group.length < 2;
    }
    function open(link) {
      opener = link;
      var selector = '.lightbox-link[data-group="' + link.dataset.group + '"]';
      // A stack lists every slice in hidden links; the page shows only its middle slice.
      var members = document.querySelectorAll(selector + "[data-stack-member]");
      group = Array.prototype.slice.call(members.length ? members : document.querySelectorAll(selector));
      var thumb = link.querySelector("img");
      alt = thumb ? thumb.alt : "";
      var start = group.findIndex(function (member) { return member.href === link.href; });
      box.hidden = false;
      show(start >= 0 ? start : 0);
      box.querySelector(".lightbox-close").focus();
    }
    function close() {
      box.hidden = true;
      img.removeAttribute("src");
      if (opener) opener.focus();
    }
    root.querySelectorAll(".lightbox-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        open(link);
      });
    });
    if (box.dataset.bound) return;
    box.dataset.bound = "1";
    box.querySelector(".lightbox-close").addEventListener("click", close);
    box.querySelector(".lightbox-prev").addEventListener("click", function () { show(index - 1); });
    box.querySelector(".lightbox-next").addEventListener("click", function () { show(index + 1); });
    box.addEventListener("click", function (event) { if (event.target === box) close(); });
    box.addEventListener("wheel", function (event) {
      event.preventDefault();
      var step = event.deltaY > 0 ? 1 : -1;
      show(viewer.active() ? Math.min(group.length - 1, Math.max(0, index + step)) : index + step);
    }, { passive: false });
    viewer.onSlice(function (i) { show(i); });
    document.addEventListener("keydown", function (event) {
      if (box.hidden) return;
      if (event.key === "Escape") close();
      if (event.key === "ArrowLeft" || event.key === "ArrowUp" || event.key === "PageUp") show(index - 1);
      if (event.key === "ArrowRight" || event.key === "ArrowDown" || event.key === "PageDown") show(index + 1);
      if (event.key === "Home") show(0);
      if (event.key === "End") show(group.length - 1);
      if (event.key === "i") viewer.toggleInvert();
    });
  }

  // Live windowing: stack slices with DICOM behind them are drawn from their real-world values
  // (int16 or float32, zlib), fetched once each, through a window the reader sets.
  var PRESETS = {
    CT: [["Soft tissue", 40, 400], ["Bone", 500, 2000], ["Lung", -600, 1500], ["Brain", 40, 80]],
  };

  function makeViewer(box) {
    var canvas = box.querySelector(".viewer-canvas");
    var bar = box.querySelector(".viewer-bar");
    if (!canvas || !bar || !window.DecompressionStream) {
      return { show: function () { return false; }, active: function () { return false; }, onSlice: function () {}, toggleInvert: function () {} };
    }
    var context = canvas.getContext("2d");
    var counter = bar.querySelector(".viewer-counter");
    var slider = bar.querySelector(".viewer-slider");
    var readout = bar.querySelector(".viewer-window");
    var presets = bar.querySelector(".viewer-presets");
    var invertBox = bar.querySelector(".viewer-invert");
    var loading = bar.querySelector(".viewer-loading");
    var cache = new Map();
    var links = [];
    var current = 0;
    var win = null;
    var sliceListener = function () {};
    var on = false;

    function load(link) {
      var url = link.dataset.values;
      if (!cache.has(url)) {
        cache.set(url, fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) throw new Error("values " + response.status);
          var type = response.headers.get("X-Values-Type");
          var stream = response.body.pipeThrough(new DecompressionStream("deflate"));
          return new Response(stream).arrayBuffer().then(function (buffer) {
            return type === "int16" ? new Int16Array(buffer) : new Float32Array(buffer);
          });
        }));
      }
      return cache.get(url);
    }
    function preload() {
      var done = 0;
      links.forEach(function (link) {
        load(link).then(function () {
          done += 1;
          loading.textContent = done < links.length ? "Loading " + done + " / " + links.length : "";
        });
      });
    }
    function draw() {
      var link = links[current];
      var width = Number(link.dataset.width), height = Number(link.dataset.height);
      load(link).then(function (values) {
        if (links[current] !== link) return;
        canvas.width = width;
        canvas.height = height;
        var picture = context.createImageData(width, height);
        var pixels = picture.data;
        var low = win.center - win.width / 2, scale = 255 / Math.max(win.width, 1e-6);
        var invert = invertBox.checked;
        for (var p = 0, q = 0; p < values.length; p += 1, q += 4) {
          var grey = (values[p] - low) * scale;
          grey = grey < 0 ? 0 : grey > 255 ? 255 : grey;
          if (invert) grey = 255 - grey;
          pixels[q] = pixels[q + 1] = pixels[q + 2] = grey;
          pixels[q + 3] = 255;
        }
        context.putImageData(picture, 0, 0);
        canvas.dataset.slice = String(current + 1);
      });
      counter.textContent = (current + 1) + " / " + links.length;
      slider.value = String(current + 1);
      readout.textContent = "W " + Math.round(win.width) + " L " + Math.round(win.center);
    }
    function setWindow(center, width) {
      win = { center: center, width: Math.max(1, width) };
      draw();
    }
    function defaultWindow(link) {
      var center = parseFloat(link.dataset.center), width = parseFloat(link.dataset.windowWidth);
      return isFinite(center) && isFinite(width) ? { center: center, width: width } : { center: 40, width: 400 };
    }
    function buildPresets(link) {
      presets.textContent = "";
      var base = defaultWindow(link);
      var list = [["Default", base.center, base.width]].concat(PRESETS[link.dataset.modality] || []);
      list.forEach(function (preset) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = preset[0];
        button.addEventListener("click", function () { setWindow(preset[1], preset[2]); });
        presets.appendChild(button);
      });
    }

    var drag = null;
    canvas.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    canvas.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX, y: event.clientY, button: event.button, center: win.center, width: win.width, slice: current };
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (drag.button === 2) {
        setWindow(drag.center + dy * (drag.width / 256), drag.width + dx * (drag.width / 256));
      } else {
        var target = Math.min(links.length - 1, Math.max(0, drag.slice + Math.round(dy / 6)));
        if (target !== current) sliceListener(target);
      }
    });
    canvas.addEventListener("pointerup", function () { drag = null; });
    slider.addEventListener("input", function () { sliceListener(Number(slider.value) - 1); });
    invertBox.addEventListener("change", draw);

    return {
      show: function (group, index) {
        var link = group[index];
        if (!link.dataset.values) {
          on = false;
          canvas.hidden = bar.hidden = true;
          return false;
        }
        if (links !== group) {
          links = group;
          win = defaultWindow(link);
          slider.max = String(group.length);
          buildPresets(link);
          preload();
        }
        on = true;
        current = index;
        canvas.hidden = bar.hidden = false;
        draw();
        return true;
      },
      active: function () { return on; },
      onSlice: function (listener) { sliceListener = listener; },
      toggleInvert: function () {
        if (!on) return;
        invertBox.checked = !invertBox.checked;
        draw();
      },
    };
  }

  function bindReveal() {
    var form = document.querySelector("form[data-reveal]");
    if (!form || !window.fetch) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var error = form.querySelector(".reveal-error");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      }).then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) {
            var plain = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
            throw new Error(plain ? text : "The diagnosis could not be shown (error " + response.status + "). Reload the page and try again.");
          }
          return text;
        });
      }).then(function (html) {
        var slot = document.getElementById("answer-slot");
        slot.innerHTML = html;
        bindLightbox(slot);
        var answer = document.getElementById("answer");
        if (answer) answer.focus();
      }).catch(function (problem) {
        error.textContent = problem.message;
        error.hidden = false;
        button.disabled = false;
      });
    });
  }

  bindLightbox(document);
  bindReveal();
})();
