// Windowing: values (or an 8-bit picture's grey levels) through a lookup table into RGBA pixels, the
// automatic window, the preset list and the window a drag sets. Pure: no DOM.

// The window that shows an 8-bit picture as it is.
export const PICTURE_WINDOW = Object.freeze({ center: 127.5, width: 255 });

// One opaque grey RGBA pixel, as a little-endian Uint32.
export function grey(level) {
  return (0xff000000 | (level << 16) | (level << 8) | level) >>> 0;
}

// Fill ``out`` (a Uint32Array over RGBA bytes) with ``values`` seen through ``win``.
export function windowInto(out, values, win, invert) {
  const low = win.center - win.width / 2, scale = 255 / Math.max(win.width, 1e-6);
  let level;
  if (values instanceof Float32Array) {
    for (let p = 0; p < values.length; p += 1) {
      level = (values[p] - low) * scale;
      level = level < 0 ? 0 : level > 255 ? 255 : level | 0;
      out[p] = grey(invert ? 255 - level : level);
    }
    return;
  }
  const offset = values instanceof Int16Array ? 32768 : 0;
  const size = values instanceof Int16Array ? 65536 : 256;
  const table = new Uint32Array(size);
  for (let v = 0; v < size; v += 1) {
    level = (v - offset - low) * scale;
    level = level < 0 ? 0 : level > 255 ? 255 : level | 0;
    table[v] = grey(invert ? 255 - level : level);
  }
  for (let q = 0; q < values.length; q += 1) out[q] = table[values[q] + offset];
}

// A window from the values themselves: their 0.5th to 99.5th percentile, from a sample; for nuclear
// medicine, whose counts are mostly background, from zero to the hottest pixel.
export function autoWindow(values, modality) {
  const step = Math.max(1, Math.floor(values.length / 20000));
  const sample = new Float64Array(Math.ceil(values.length / step));
  for (let p = 0, q = 0; p < values.length; p += step, q += 1) sample[q] = values[p];
  sample.sort();
  let low = sample[Math.floor(sample.length * 0.005)], high = sample[Math.floor(sample.length * 0.995)];
  if (modality === "NM") {
    low = 0;
    high = values.reduce((most, value) => (value > most ? value : most), 0);
  }
  return { center: (low + high) / 2, width: Math.max(1, high - low) };
}

// The window stored with an image, else null (the values will set it); a picture without values is shown as it is.
export function storedWindow(image, byValues) {
  if (!byValues) return { ...PICTURE_WINDOW };
  return image.center !== null && image.window !== null ? { center: image.center, width: image.window } : null;
}

// The preset menu as [name, center, width]: the stored window, "Auto" (null: from the values), then the
// server's presets for the stage (imaging.windows.PRESETS, the only table of them).
export function presetList(byValues, stored, serverPresets) {
  if (!byValues) return [["Default", PICTURE_WINDOW.center, PICTURE_WINDOW.width]];
  const base = stored || { center: null, width: null };
  const extra = (serverPresets || []).map((preset) => [preset.name, preset.center, preset.width]);
  return [["Default", base.center, base.width], ["Auto", null, null]].concat(extra);
}

// The index in the preset menu of the preset called ``name`` (the stage's opening window), else 0 ("Default").
export function presetIndex(presets, name) {
  const index = presets.findIndex((preset) => preset[0] === name && preset[1] !== null);
  return index < 0 ? 0 : index;
}

// A window drag: down and up move the level, right and left widen and narrow, in steps of width/256.
export function draggedWindow(start, dx, dy) {
  return { center: start.center + dy * (start.width / 256), width: Math.max(1, start.width + dx * (start.width / 256)) };
}
