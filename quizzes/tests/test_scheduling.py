"""Tests for quizzes.scheduling: SM-2 spaced review of missed items."""

import datetime

import pytest

from quizzes.scheduling import MIN_EASE, ReviewState, first_review, grade, is_due, next_review

START = datetime.date(2025, 3, 3)


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


def simulate(outcomes, days: int = 400) -> list[tuple[int, ReviewState]]:
    """Review a newly missed item on every day it is due, with the next outcome; return (day, state after) pairs."""
    state = first_review(START)
    outcomes = iter(outcomes)
    history = []
    for n in range(1, days):
        if is_due(state, day(n)):
            outcome = next(outcomes, None)
            if outcome is None:
                break
            state = next_review(state, outcome, day(n))
            history.append((n, state))
    return history


def test_a_newly_missed_item_is_due_the_next_day():
    assert first_review(START) == ReviewState(repetitions=0, interval_days=1, ease=2.5, due=day(1))


def test_correct_every_time_it_comes_due_spreads_the_reviews_out():
    history = simulate(["correct"] * 5)
    assert [state.interval_days for _, state in history] == [1, 6, 16, 45, 131]
    assert [state.ease for _, state in history] == [2.6, 2.7, 2.8, 2.9, 3.0]
    assert [state.repetitions for _, state in history] == [1, 2, 3, 4, 5]
    assert [n for n, _ in history] == [1, 2, 8, 24, 69]  # each review falls on the previous due date


def test_grade_four_every_time_keeps_the_ease_and_gives_the_textbook_intervals():
    history = simulate([4] * 5)
    assert [state.interval_days for _, state in history] == [1, 6, 15, 38, 95]
    assert {state.ease for _, state in history} == {2.5}


def test_a_miss_in_between_starts_the_intervals_again():
    history = simulate(["correct", "correct", "correct", "missed", "correct", "correct", "correct"])
    assert [state.interval_days for _, state in history] == [1, 6, 16, 1, 1, 6, 15]  # 6 × 2.46
    assert [state.repetitions for _, state in history] == [1, 2, 3, 0, 1, 2, 3]
    missed_on, missed = history[3]
    assert missed.due == day(missed_on + 1)
    assert missed.ease == pytest.approx(2.8 - 0.54)


@pytest.mark.parametrize("outcome", ["missed", 0, 1, 2])
def test_the_ease_never_falls_below_its_floor(outcome):
    history = simulate([outcome] * 10)
    assert min(state.ease for _, state in history) == MIN_EASE
    assert {state.interval_days for _, state in history} == {1}


def test_a_partial_answer_keeps_the_repetitions_but_lowers_the_ease():
    state = ReviewState(repetitions=2, interval_days=6, ease=2.5, due=day(0))
    after = next_review(state, "partial", day(0))
    assert after == ReviewState(repetitions=3, interval_days=15, ease=2.36, due=day(15))


@pytest.mark.parametrize(
    ("outcome", "change"),
    [(5, 0.1), (4, 0.0), (3, -0.14), (2, -0.32), (1, -0.54), (0, -0.8)],
)
def test_the_ease_changes_by_the_sm2_formula(outcome, change):
    state = ReviewState(repetitions=3, interval_days=10, ease=2.5, due=day(0))
    assert next_review(state, outcome, day(0)).ease == pytest.approx(2.5 + change)


@pytest.mark.parametrize(("outcome", "expected"), [("correct", 5), ("partial", 3), ("missed", 1), (0, 0), (5, 5)])
def test_outcomes_map_to_quality_grades(outcome, expected):
    assert grade(outcome) == expected


def test_intervals_round_halves_up():
    state = ReviewState(repetitions=2, interval_days=5, ease=2.5, due=day(0))
    assert next_review(state, 4, day(0)).interval_days == 13  # 12.5 days


def test_an_early_review_is_scheduled_from_the_day_it_happens():
    state = ReviewState(repetitions=2, interval_days=6, ease=2.5, due=day(10))
    after = next_review(state, "correct", day(3))
    assert (after.interval_days, after.due) == (15, day(18))


@pytest.mark.parametrize(("due_in", "due"), [(-3, True), (0, True), (1, False)])
def test_an_item_is_due_from_its_due_date_on(due_in, due):
    state = ReviewState(repetitions=1, interval_days=1, ease=2.5, due=day(due_in))
    assert is_due(state, day(0)) is due


@pytest.mark.parametrize("outcome", ["wrong", "Correct", "", 6, -1, True, 2.5, None])
def test_an_unknown_outcome_is_refused(outcome):
    state = first_review(START)
    with pytest.raises(ValueError, match="Unknown review outcome"):
        next_review(state, outcome, day(1))


@pytest.mark.parametrize(
    "fields",
    [
        {"repetitions": -1, "interval_days": 1, "ease": 2.5},
        {"repetitions": 0, "interval_days": 0, "ease": 2.5},
        {"repetitions": 0, "interval_days": 1, "ease": 1.2},
    ],
)
def test_an_impossible_state_is_refused(fields):
    with pytest.raises(ValueError):
        ReviewState(due=START, **fields)


def test_a_datetime_is_refused_as_the_day():
    with pytest.raises(TypeError, match="datetime.date"):
        first_review(datetime.datetime(2025, 3, 3, 9, 30))
