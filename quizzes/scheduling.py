"""Schedule the spaced review of missed questions and cases with SuperMemo 2 (SM-2).

Framework-free: a :class:`ReviewState` and an outcome in, the next state out.

An outcome is a quality grade q from 0 to 5 (``GRADES`` maps the words the site uses: "correct" → 5,
"partial" → 3, "missed" → 1). After each review:

- q < 3: the repetitions start again (0) and the item comes back the next day (interval 1);
- q ≥ 3: the repetitions go up by one, and the interval is 1 day after the first, 6 after the second and
  round(previous interval × ease) after later ones, using the ease before this review and rounding halves up;
- the ease becomes ease + (0.1 − (5 − q)(0.08 + (5 − q)·0.02)) for every grade, never below 1.3: a correct
  answer adds 0.1, a partial one takes 0.14 off, a miss 0.54 (kept to two decimals, the formula's precision);
- the item is due ``today`` + interval. Reviewing before the due date is allowed and counts from ``today``.

References
----------
P. A. Wozniak, "Optimization of learning", Master's thesis, University of Technology in Poznan, 1990;
published as "Algorithm SM-2", https://super-memory.com/english/ol/sm2.htm
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

__all__ = [
    "GRADES",
    "INITIAL_EASE",
    "MIN_EASE",
    "PASSING_GRADE",
    "ReviewState",
    "first_review",
    "grade",
    "is_due",
    "next_review",
]

GRADES = {"correct": 5, "partial": 3, "missed": 1}
INITIAL_EASE = 2.5
MIN_EASE = 1.3
PASSING_GRADE = 3


@dataclass(frozen=True)
class ReviewState:
    """Where an item stands in its review schedule."""

    repetitions: int  # successful reviews in a row
    interval_days: int
    ease: float
    due: datetime.date

    def __post_init__(self) -> None:
        if self.repetitions < 0:
            raise ValueError(f"repetitions must not be negative, got {self.repetitions}.")
        if self.interval_days < 1:
            raise ValueError(f"interval_days must be at least 1, got {self.interval_days}.")
        if self.ease < MIN_EASE:
            raise ValueError(f"ease must be at least {MIN_EASE}, got {self.ease}.")


def first_review(today: datetime.date) -> ReviewState:
    """Return the schedule of a newly missed item: due the next day."""
    _check_date(today)
    return ReviewState(repetitions=0, interval_days=1, ease=INITIAL_EASE, due=today + datetime.timedelta(days=1))


def next_review(state: ReviewState, outcome: str | int, today: datetime.date) -> ReviewState:
    """Return the schedule after reviewing the item on ``today`` with ``outcome``."""
    _check_date(today)
    q = grade(outcome)
    if q < PASSING_GRADE:
        repetitions, interval = 0, 1
    else:
        repetitions = state.repetitions + 1
        if repetitions == 1:
            interval = 1
        elif repetitions == 2:
            interval = 6
        else:
            interval = max(1, math.floor(state.interval_days * state.ease + 0.5))
    ease = max(MIN_EASE, round(state.ease + 0.1 - (5 - q) * (0.08 + (5 - q) * 0.02), 2))
    return ReviewState(repetitions, interval, ease, today + datetime.timedelta(days=interval))


def is_due(state: ReviewState, today: datetime.date) -> bool:
    """Say whether the item should be reviewed on ``today`` (its due date has come)."""
    return state.due <= today


def grade(outcome: str | int) -> int:
    """Return the SM-2 quality grade (0–5) of an outcome word or grade."""
    if isinstance(outcome, str) and outcome in GRADES:
        return GRADES[outcome]
    if isinstance(outcome, int) and not isinstance(outcome, bool) and 0 <= outcome <= 5:
        return outcome
    raise ValueError(f"Unknown review outcome {outcome!r}: use one of {', '.join(GRADES)} or a grade from 0 to 5.")


def _check_date(today: datetime.date) -> None:
    # a datetime is a date too, but would put a time of day into the due date
    if not isinstance(today, datetime.date) or isinstance(today, datetime.datetime):
        raise TypeError(f"today must be a datetime.date, got {type(today).__name__}.")
