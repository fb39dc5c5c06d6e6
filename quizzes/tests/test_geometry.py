"""A polygon target: which clicks land inside it, and which outlines are refused."""

import pytest

from quizzes.geometry import MAX_CORNERS, area, point_in_polygon, polygon_problem
from quizzes.scoring import Target, click_hits

SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]
# A "C" open to the right: its mouth (0.5, 0.5) is outside though it lies between the arms.
CONCAVE = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.35), (0.35, 0.35), (0.35, 0.65), (0.8, 0.65), (0.8, 0.8), (0.2, 0.8)]


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [
        (0.4, 0.4, True),  # the middle
        (0.21, 0.59, True),  # near a corner, inside
        (0.1, 0.4, False),  # left of it
        (0.61, 0.4, False),  # just right of it
        (0.4, 0.19, False),  # just above it
        (0.6, 0.4, True),  # on the right edge: the outline counts
        (0.4, 0.2, True),  # on the top edge
        (0.2, 0.2, True),  # on a corner
        (0.2, 0.1, False),  # in line with an edge, beyond its end
    ],
)
def test_a_click_in_a_square(x, y, inside):
    assert point_in_polygon(x, y, SQUARE) is inside


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [
        (0.3, 0.5, True),  # the back of the C
        (0.6, 0.25, True),  # the upper arm
        (0.6, 0.75, True),  # the lower arm
        (0.5, 0.5, False),  # the mouth, between the arms
        (0.35, 0.5, True),  # on the inner edge
        (0.9, 0.5, False),  # right of everything
    ],
)
def test_a_click_in_a_concave_polygon(x, y, inside):
    assert point_in_polygon(x, y, CONCAVE) is inside


def test_a_ray_through_a_corner_counts_once():
    diamond = [(0.5, 0.1), (0.9, 0.5), (0.5, 0.9), (0.1, 0.5)]
    assert point_in_polygon(0.3, 0.5, diamond)  # the ray to the right passes through the corner (0.9, 0.5)
    assert not point_in_polygon(0.05, 0.5, diamond)
    assert not point_in_polygon(0.5, 0.05, diamond)


def test_usable_polygons_pass():
    assert polygon_problem(SQUARE) is None
    assert polygon_problem(CONCAVE) is None
    assert polygon_problem([[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]) is None, "JSON gives lists"
    assert area(SQUARE) == pytest.approx(0.16)


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        ([(0.2, 0.2), (0.6, 0.6), (0.6, 0.2), (0.2, 0.6)], "crosses itself"),  # a bow tie
        ([(0.2, 0.2), (0.8, 0.2), (0.5, 0.5), (0.8, 0.8), (0.2, 0.8), (0.5, 0.5)], "crosses itself"),  # touches
        ([(0.2, 0.2), (0.8, 0.2), (0.5, 0.2), (0.5, 0.6)], "crosses itself"),  # folds back along an edge
        ([(0.2, 0.2), (0.6, 0.2)], "3 to"),
        ([(0.1 + 0.001 * i, 0.1 + (i % 2) * 0.5) for i in range(MAX_CORNERS + 1)], "3 to"),
        ([(0.2, 0.2), (1.2, 0.2), (0.5, 0.6)], "on the image"),
        ([(0.2, 0.2), (0.2, 0.2), (0.5, 0.6)], "same place"),
        ([(0.2, 0.2), (0.5, 0.2), (0.8, 0.2)], "crosses itself"),  # a flat line
        ([(0.2, 0.2), (0.21, 0.2), (0.21, 0.21)], "too small"),
    ],
)
def test_unusable_polygons_are_refused_with_a_reason(points, problem):
    assert problem in polygon_problem(points)


@pytest.mark.parametrize(
    "points",
    [
        [["a", "b"], [0.2, 0.2], [0.5, 0.6]],
        [0.2, 0.3, 0.4],
        [{"x": 0.1, "y": 0.2}, [0.2, 0.2], [0.5, 0.6]],
        [[None, 0.2], [0.2, 0.2], [0.5, 0.6]],
        [[True, 0.2], [0.2, 0.2], [0.5, 0.6]],
        [[float("nan"), 0.2], [0.2, 0.2], [0.5, 0.6]],
    ],
)
def test_corners_that_are_not_pairs_of_numbers_are_refused_not_an_error(points):
    """A forged form or package may send anything as the points: a reason, never an exception."""
    assert polygon_problem(points) == "Every corner must lie on the image."


def test_click_hits_a_polygon_target_on_the_slices_that_count():
    target = Target(x=None, y=None, radius=None, slice_from=3, slice_to=4, points=tuple(CONCAVE))
    assert click_hits(target, x=0.3, y=0.5, slice_number=3)
    assert not click_hits(target, x=0.5, y=0.5, slice_number=3), "the mouth of the C"
    assert not click_hits(target, x=0.3, y=0.5, slice_number=5), "the right place on a slice too low"
    assert click_hits(target, x=0.3, y=0.5, slice_number=3, aspect=2.0), "a stretched image keeps it inside"
