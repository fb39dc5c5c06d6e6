"""Marking a click on an image, an attempt's score, and the cohort statistics of a quiz's questions.

Framework-free: plain numbers in, plain numbers out.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .geometry import point_in_polygon


@dataclass(frozen=True)
class Target:
    """A circle on an image, in fractions of its width (x, radius) and height (y), or a polygon (``points``,
    fractions of width and height), and the slices that count."""

    x: float | None
    y: float | None
    radius: float | None
    slice_from: int | None = None
    slice_to: int | None = None
    points: tuple[tuple[float, float], ...] = ()


def click_hits(target: Target, *, x: float, y: float, slice_number: int, aspect: float = 1.0) -> bool:
    """Say whether a click at (x, y) on slice ``slice_number`` (1 = first) lands on the target (a polygon's
    outline counts as inside).

    ``aspect`` is the image's height over its width: a circle is round on the image, so the vertical
    distance is scaled into fractions of the width before it is compared with the radius.
    """
    if not (0 <= x <= 1 and 0 <= y <= 1):
        return False
    if target.slice_from is not None and slice_number < target.slice_from:
        return False
    if target.slice_to is not None and slice_number > target.slice_to:
        return False
    if target.points:
        return point_in_polygon(x, y, target.points)
    return math.hypot(x - target.x, (y - target.y) * aspect) <= target.radius


def score(correct: int, total: int) -> float:
    """Return the fraction of questions answered correctly (an empty quiz scores 0)."""
    return correct / total if total else 0.0


@dataclass(frozen=True)
class ItemStatistics:
    answered: int
    difficulty: float  # the fraction who answered correctly: classical item difficulty (p value)
    discrimination: float | None  # point-biserial correlation of the item with the rest of the score


def item_statistics(item: Sequence[bool], totals: Sequence[float]) -> ItemStatistics:
    """Describe one question over a cohort's attempts: ``item[i]`` whether attempt i got it right, ``totals[i]``
    that attempt's score on the other questions.

    Discrimination is the point-biserial correlation between getting this item right and the rest of the
    score; it is None when it cannot be computed (fewer than two attempts, or no spread).
    """
    answered = len(item)
    if not answered:
        return ItemStatistics(0, 0.0, None)
    difficulty = sum(item) / answered
    if answered < 2 or difficulty in (0.0, 1.0) or statistics.pstdev(totals) == 0:
        return ItemStatistics(answered, difficulty, None)
    right = [total for total, correct in zip(totals, item, strict=True) if correct]
    wrong = [total for total, correct in zip(totals, item, strict=True) if not correct]
    spread = statistics.pstdev(totals)
    value = (statistics.mean(right) - statistics.mean(wrong)) / spread * math.sqrt(difficulty * (1 - difficulty))
    return ItemStatistics(answered, difficulty, value)


def histogram(scores: Sequence[float], bins: int = 10) -> list[int]:
    """Count scores (fractions 0–1) into ``bins`` equal bins, the last one closed (a perfect score counts)."""
    counts = [0] * bins
    for value in scores:
        counts[min(bins - 1, max(0, int(value * bins)))] += 1
    return counts
