// Mask rectangles as the "Mask" field holds them: "x,y,width,height; …" in the image's pixels. Pure: no DOM.

// The rectangles of a field's text; parts that are not four integers are dropped.
export function parseRectangles(text) {
  return text.split(";").map((part) => part.split(",").map((value) => parseInt(value, 10)))
    .filter((r) => r.length === 4 && r.every((v) => !isNaN(v)));
}

export function formatRectangles(rectangles) {
  return rectangles.map((r) => r.join(",")).join("; ");
}

// The rectangle [x, y, width, height] between two corners dragged in either direction.
export function between(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])];
}

// A drag of three pixels or less either way is a click, not a rectangle.
export function isDrawn(r) {
  return r[2] > 2 && r[3] > 2;
}
