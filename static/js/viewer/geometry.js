// The pane's geometry: zoom limits, where the image sits, zooming about a point, the grid of frames and
// linked scrolling. Pure: sizes come in as numbers.

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 16;
export const GRID_LIMIT = 100; // frames drawn at once in a grid

export function clampZoom(zoom) {
  return Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
}

// The scale that fits an image of ``size`` into a ``box`` ({width, height}); 1 while the box has no size.
export function fitScale(size, box) {
  return Math.min(box.width / size.width, box.height / size.height) || 1;
}

// Where the image's top-left corner sits in the box, centred and then moved by ``pan``, at ``scale``.
export function layout(size, box, pan, scale) {
  return {
    scale,
    x: box.width / 2 + pan.x - size.width * scale / 2,
    y: box.height / 2 + pan.y - size.height * scale / 2,
  };
}

// The pan that keeps the image point under (x, y) in place when the zoom becomes ``zoom``.
export function panForZoomAt(before, zoom, x, y, size, box) {
  const u = (x - before.x) / before.scale, v = (y - before.y) / before.scale;
  return {
    x: x - u * zoom - box.width / 2 + size.width * zoom / 2,
    y: y - v * zoom - box.height / 2 + size.height * zoom / 2,
  };
}

// A point of the box as fractions of the image's width and height, or null outside the image.
export function imageFraction(x, y, place, size) {
  const u = (x - place.x) / place.scale / size.width, v = (y - place.y) / place.scale / size.height;
  return u < 0 || u > 1 || v < 0 || v > 1 ? null : { x: u, y: v };
}

// Columns and rows of a grid of ``total`` frames (at most GRID_LIMIT) in a box, cells near its shape.
export function gridShape(total, box) {
  const count = Math.min(total, GRID_LIMIT);
  let columns = Math.ceil(Math.sqrt(count * box.width / Math.max(box.height, 1)));
  columns = Math.max(1, Math.min(count, columns));
  return { count, columns, rows: Math.ceil(count / columns) };
}

// The frame under (x, y) of the box, or -1 past the last frame.
export function gridCell(shape, box, x, y) {
  const column = Math.floor(x / (box.width / shape.columns));
  const row = Math.floor(y / (box.height / shape.rows));
  const index = row * shape.columns + column;
  return index < shape.count ? index : -1;
}

// Linked panes keep the same relative depth: slice k of n in one shows slice k·(m−1)/(n−1) of m in the other.
export function linkedIndex(index, fromCount, toCount) {
  const from = fromCount - 1, to = toCount - 1;
  return from ? Math.round(index * to / from) : 0;
}

// The slice to open on: the one asked for, else the first key image, else the middle of a stack (of more than four).
export function startIndex(images, asked) {
  let start = asked;
  if (start === undefined) {
    start = images.findIndex((image) => image.key);
    if (start < 0) start = images.length > 4 ? Math.floor(images.length / 2) : 0;
  }
  return Math.max(0, Math.min(images.length - 1, start));
}
