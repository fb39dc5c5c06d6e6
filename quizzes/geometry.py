"""The click-the-finding target as a polygon: whether a click lands inside it, and whether it is a usable one.

Framework-free. Points are ``(x, y)`` fractions of the image's width and height; the test "inside" does not
depend on the image's shape (a polygon stays a polygon when the image is stretched), so no aspect is needed.
"""

from collections.abc import Sequence

MAX_CORNERS = 64
MIN_AREA = 5e-5  # about a circle of radius 0.004: smaller than the smallest circle a target may have
_EPSILON = 1e-9

Point = tuple[float, float]


def _cross(origin: Point, a: Point, b: Point) -> float:
    return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0])


def _on_segment(point: Point, a: Point, b: Point) -> bool:
    """Say whether ``point`` lies on the segment from ``a`` to ``b`` (ends included)."""
    if abs(_cross(a, b, point)) > _EPSILON:
        return False
    return (
        min(a[0], b[0]) - _EPSILON <= point[0] <= max(a[0], b[0]) + _EPSILON
        and min(a[1], b[1]) - _EPSILON <= point[1] <= max(a[1], b[1]) + _EPSILON
    )


def _edges(points: Sequence[Point]) -> list[tuple[Point, Point]]:
    return [(points[index], points[(index + 1) % len(points)]) for index in range(len(points))]


def point_in_polygon(x: float, y: float, points: Sequence[Point]) -> bool:
    """Say whether (x, y) lies inside the polygon or on its outline (a click on the line counts)."""
    point = (x, y)
    inside = False
    for a, b in _edges(points):
        if _on_segment(point, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            crossing = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < crossing:
                inside = not inside
    return inside


def _segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Say whether the closed segments ab and cd share a point."""
    d1, d2, d3, d4 = _cross(c, d, a), _cross(c, d, b), _cross(a, b, c), _cross(a, b, d)
    if ((d1 > _EPSILON and d2 < -_EPSILON) or (d1 < -_EPSILON and d2 > _EPSILON)) and (
        (d3 > _EPSILON and d4 < -_EPSILON) or (d3 < -_EPSILON and d4 > _EPSILON)
    ):
        return True
    return _on_segment(a, c, d) or _on_segment(b, c, d) or _on_segment(c, a, b) or _on_segment(d, a, b)


def area(points: Sequence[Point]) -> float:
    """Return the polygon's area in fractions of the image's area (shoelace formula)."""
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in _edges(points))) / 2


def _on_image(point) -> bool:
    """Say whether a corner, as a form or a package gives it (any JSON), is two fractions from 0 to 1."""
    return (
        isinstance(point, list | tuple)
        and len(point) == 2
        and all(isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1 for value in point)
    )


def polygon_problem(points: Sequence[Sequence[float]]) -> str | None:
    """Say what is wrong with ``points`` as a target (None when it is a usable polygon).

    Refused: fewer than three or more than ``MAX_CORNERS`` corners, a corner off the image, two corners at one
    place, an outline that crosses or touches itself (which inside would be ambiguous), and a sliver too thin
    to click.
    """
    if not 3 <= len(points) <= MAX_CORNERS:
        return f"A polygon has 3 to {MAX_CORNERS} corners."
    if not all(_on_image(point) for point in points):
        return "Every corner must lie on the image."
    corners = [(float(point[0]), float(point[1])) for point in points]
    edges = _edges(corners)
    if any(abs(a[0] - b[0]) <= _EPSILON and abs(a[1] - b[1]) <= _EPSILON for a, b in edges):
        return "Two corners of the polygon are at the same place."
    count = len(edges)
    for first in range(count):
        for second in range(first + 1, count):
            neighbours = second == first + 1 or (first == 0 and second == count - 1)
            a, b = edges[first]
            c, d = edges[second]
            if neighbours:
                # Neighbours share a corner; they must not fold back along each other.
                shared, other = (b, d) if second == first + 1 else (a, c)
                end = a if second == first + 1 else b
                if _on_segment(other, end, shared) or _on_segment(end, shared, other):
                    return "The polygon's outline crosses itself: draw it without crossing lines."
            elif _segments_meet(a, b, c, d):
                return "The polygon's outline crosses itself: draw it without crossing lines."
    if area(corners) < MIN_AREA:
        return "The polygon is too small to click: draw it larger."
    return None
