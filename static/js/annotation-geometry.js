// Annotation geometry, shared by the viewer's overlay and the authoring editor. An annotation's points are
// [x1, y1, x2, y2] in fractions of the image's width and height, as the Annotation model stores them.
// Pure: no DOM.

export const HEAD_ANGLE = 0.45; // radians either side of an arrow's shaft

export function clamp(value) {
  return Math.min(1, Math.max(0, value));
}

// The points on screen, for an image of ``size`` placed at ``place`` ({x, y, scale}).
export function onScreen(points, place, size) {
  return [
    place.x + points[0] * size.width * place.scale,
    place.y + points[1] * size.height * place.scale,
    place.x + points[2] * size.width * place.scale,
    place.y + points[3] * size.height * place.scale,
  ];
}

// The two barbs of an arrow from (x1, y1) to (x2, y2): [[x, y] of one barb's end, [x, y] of the other].
export function arrowHead(p, length) {
  const angle = Math.atan2(p[3] - p[1], p[2] - p[0]);
  return [
    [p[2] - length * Math.cos(angle - HEAD_ANGLE), p[3] - length * Math.sin(angle - HEAD_ANGLE)],
    [p[2] - length * Math.cos(angle + HEAD_ANGLE), p[3] - length * Math.sin(angle + HEAD_ANGLE)],
  ];
}

// The ellipse inscribed in the box of two corners.
export function ellipse(p) {
  return { x: (p[0] + p[2]) / 2, y: (p[1] + p[3]) / 2, rx: Math.abs(p[2] - p[0]) / 2, ry: Math.abs(p[3] - p[1]) / 2 };
}

// Whether ``at`` (image fractions) is within ``near`` pixels of an annotation drawn on an image of ``size``
// pixels; a text label's box is ``text`` ({width, height}) in pixels from its point.
export function hits(mark, at, size, near, text) {
  const p = onScreen(mark.points, { x: 0, y: 0, scale: 1 }, size);
  const x = at[0] * size.width, y = at[1] * size.height;
  if (mark.kind === "arrow") {
    const dx = p[2] - p[0], dy = p[3] - p[1];
    const t = Math.max(0, Math.min(1, ((x - p[0]) * dx + (y - p[1]) * dy) / (dx * dx + dy * dy || 1)));
    return Math.hypot(x - (p[0] + t * dx), y - (p[1] + t * dy)) <= near;
  }
  if (mark.kind === "ellipse") {
    const shape = ellipse(p);
    const ex = (x - shape.x) / (shape.rx + near), ey = (y - shape.y) / (shape.ry + near);
    return ex * ex + ey * ey <= 1;
  }
  return x >= p[0] - near && x <= p[0] + text.width + near && y >= p[1] - near && y <= p[1] + text.height + near;
}

// ``points`` moved by (dx, dy), the move stopping where a point would leave the image.
export function moved(points, dx, dy) {
  const xs = [points[0], points[2]], ys = [points[1], points[3]];
  const x = Math.min(1 - Math.max(...xs), Math.max(-Math.min(...xs), dx));
  const y = Math.min(1 - Math.max(...ys), Math.max(-Math.min(...ys), dy));
  return [points[0] + x, points[1] + y, points[2] + x, points[3] + y];
}

// Where a label of ``textWidth`` starts so that it stays inside a box of width × height (its baseline at y).
export function labelInside(x, y, textWidth, width, height) {
  return [Math.max(4, Math.min(width - textWidth - 4, x)), Math.max(16, Math.min(height - 4, y))];
}
