"""Marking clicks, scores, and the item statistics of the cohort results."""

import pytest

from quizzes.scoring import Target, click_hits, histogram, item_statistics, score

TARGET = Target(x=0.5, y=0.5, radius=0.1, slice_from=10, slice_to=12)


@pytest.mark.parametrize(
    ("x", "y", "slice_number", "aspect", "hit"),
    [
        (0.5, 0.5, 11, 1.0, True),  # the centre
        (0.59, 0.5, 10, 1.0, True),  # inside, on the first slice that counts
        (0.5, 0.41, 12, 1.0, True),  # inside, on the last one
        (0.61, 0.5, 11, 1.0, False),  # just outside
        (0.5, 0.5, 9, 1.0, False),  # the right place, a slice too high
        (0.5, 0.5, 13, 1.0, False),  # a slice too low
        (0.5, 0.57, 11, 2.0, False),  # a tall image: 0.07 of its height is 0.14 of its width
        (0.5, 0.54, 11, 2.0, True),
        (1.2, 0.5, 11, 1.0, False),  # outside the image
        (0.57, 0.57, 11, 1.0, True),  # diagonal, 0.099 away
        (0.58, 0.58, 11, 1.0, False),  # diagonal, 0.113 away
    ],
)
def test_click_hits(x, y, slice_number, aspect, hit):
    assert click_hits(TARGET, x=x, y=y, slice_number=slice_number, aspect=aspect) is hit


def test_a_target_without_slices_counts_on_any_slice():
    assert click_hits(Target(0.5, 0.5, 0.1), x=0.5, y=0.5, slice_number=999)


@pytest.mark.parametrize(("correct", "total", "expected"), [(0, 0, 0.0), (3, 4, 0.75), (4, 4, 1.0)])
def test_score(correct, total, expected):
    assert score(correct, total) == expected


def test_an_item_the_stronger_residents_get_right_discriminates():
    item = [True, True, True, False, False]
    rest = [9, 8, 8, 3, 2]
    stats = item_statistics(item, rest)
    assert stats.answered == 5 and stats.difficulty == 0.6
    assert stats.discrimination == pytest.approx(0.986, abs=0.001)  # (8.33 - 2.5) / 2.90 × √(0.6 × 0.4)


def test_an_item_the_weaker_residents_get_right_discriminates_negatively():
    assert item_statistics([False, False, True, True], [9, 8, 3, 2]).discrimination < -0.9


@pytest.mark.parametrize(
    ("item", "rest"),
    [([], []), ([True], [3]), ([True, True], [1, 5]), ([False, False], [1, 5]), ([True, False], [4, 4])],
)
def test_discrimination_is_none_without_spread(item, rest):
    assert item_statistics(item, rest).discrimination is None


def test_histogram_counts_a_perfect_score_in_the_last_bin():
    assert histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
