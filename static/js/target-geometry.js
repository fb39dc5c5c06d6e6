// The click-the-finding target as the question editor draws it: a circle dragged from its centre, or a polygon
// clicked corner by corner. Points are [x, y] fractions of the image's width and height; a circle's radius is a
// fraction of the width, as the Question model stores them (quizzes/geometry.py holds the server's rules).
// Pure: no DOM.

export const MIN_RADIUS = 0.005;
export const MAX_RADIUS = 0.5;
export const MAX_CORNERS = 64;
export const MIN_AREA = 5e-5;
const EPSILON = 1e-9;

export function clamp(value) {
  return Math.min(1, Math.max(0, value));
}

// The circle dragged from ``start`` (its centre) to ``end`` on an image ``aspect`` (height / width) tall.
export function circleFromDrag(start, end, aspect) {
  const radius = Math.hypot(end[0] - start[0], (end[1] - start[1]) * aspect);
  return { x: start[0], y: start[1], radius: Math.min(MAX_RADIUS, Math.max(MIN_RADIUS, radius)) };
}

export function insideCircle(circle, point, aspect) {
  return Math.hypot(point[0] - circle.x, (point[1] - circle.y) * aspect) <= circle.radius;
}

function cross(origin, a, b) {
  return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0]);
}

function onSegment(point, a, b) {
  if (Math.abs(cross(a, b, point)) > EPSILON) return false;
  return (
    Math.min(a[0], b[0]) - EPSILON <= point[0] && point[0] <= Math.max(a[0], b[0]) + EPSILON &&
    Math.min(a[1], b[1]) - EPSILON <= point[1] && point[1] <= Math.max(a[1], b[1]) + EPSILON
  );
}

function edges(points) {
  return points.map((point, index) => [point, points[(index + 1) % points.length]]);
}

// Whether ``point`` is inside the polygon or on its outline (a click on the line counts, as on the server).
export function insidePolygon(points, point) {
  let inside = false;
  for (const [a, b] of edges(points)) {
    if (onSegment(point, a, b)) return true;
    if ((a[1] > point[1]) !== (b[1] > point[1])) {
      const crossing = a[0] + ((point[1] - a[1]) * (b[0] - a[0])) / (b[1] - a[1]);
      if (point[0] < crossing) inside = !inside;
    }
  }
  return inside;
}

function strictlyApart(one, other) {
  return (one > EPSILON && other < -EPSILON) || (one < -EPSILON && other > EPSILON);
}

function segmentsMeet(a, b, c, d) {
  if (strictlyApart(cross(c, d, a), cross(c, d, b)) && strictlyApart(cross(a, b, c), cross(a, b, d))) return true;
  return onSegment(a, c, d) || onSegment(b, c, d) || onSegment(c, a, b) || onSegment(d, a, b);
}

export function area(points) {
  return Math.abs(edges(points).reduce((sum, [a, b]) => sum + a[0] * b[1] - b[0] * a[1], 0)) / 2;
}

const CROSSES = "The polygon's outline crosses itself: draw it without crossing lines.";

// What is wrong with ``points`` as a target, in the server's words; null when it is a usable polygon.
export function polygonProblem(points) {
  if (points.length < 3 || points.length > MAX_CORNERS) return "A polygon has 3 to " + MAX_CORNERS + " corners.";
  if (points.some((point) => point.some((value) => value < 0 || value > 1))) return "Every corner must lie on the image.";
  const sides = edges(points);
  if (sides.some(([a, b]) => Math.abs(a[0] - b[0]) <= EPSILON && Math.abs(a[1] - b[1]) <= EPSILON)) {
    return "Two corners of the polygon are at the same place.";
  }
  const count = sides.length;
  for (let first = 0; first < count; first += 1) {
    for (let second = first + 1; second < count; second += 1) {
      const [a, b] = sides[first], [c, d] = sides[second];
      if (second === first + 1) {
        if (onSegment(d, a, b) || onSegment(a, b, d)) return CROSSES; // folds back along its neighbour
      } else if (first === 0 && second === count - 1) {
        if (onSegment(c, b, a) || onSegment(b, a, c)) return CROSSES;
      } else if (segmentsMeet(a, b, c, d)) {
        return CROSSES;
      }
    }
  }
  if (area(points) < MIN_AREA) return "The polygon is too small to click: draw it larger.";
  return null;
}

// Whether a click at ``point`` closes the polygon: it lands within ``near`` (fraction of the width) of the
// first corner once there are three.
export function closesPolygon(points, point, near, aspect) {
  if (points.length < 3) return false;
  return Math.hypot(point[0] - points[0][0], (point[1] - points[0][1]) * aspect) <= near;
}

// The slices that count once a target is drawn on ``slice``: the range given, widened to hold that slice.
export function sliceRangeWith(from, to, slice) {
  if (!from && !to) return [slice, slice];
  const first = from || to, last = to || from;
  return [Math.min(first, slice), Math.max(last, slice)];
}

// A fraction as the form stores it: four decimals.
export function rounded(value) {
  return Math.round(value * 10000) / 10000;
}
