"""Writes: starting, answering and finishing attempts, and the spaced-review schedule."""

import logging
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import services as case_services

from . import matching, scheduling, scoring
from .models import Attempt, Question, Quiz, QuizQuestion, Response, ReviewItem
from .selectors import REVIEW_SESSION_SIZE, readable_by

logger = logging.getLogger(__name__)


class QuizUnavailable(Exception):
    """The quiz is not open to this user now."""


class AnswerRefused(Exception):
    """The answer cannot be taken: the attempt is finished, the question is not in it, or it is malformed."""


@dataclass(frozen=True)
class Answer:
    """What a resident gave: an option (its position as shown), a typed diagnosis, or a click (fractions of
    the image, 1-based slice)."""

    option_position: int | None = None
    text: str = ""
    x: float | None = None
    y: float | None = None
    slice_number: int | None = None


@transaction.atomic
def quiz_add_unknowns(*, quiz: Quiz, cases, by) -> list[Question]:
    """Add cases to the end of a quiz as unknown-case questions, reusing a case's question when it exists."""
    added = []
    order = max([entry.order for entry in quiz.entries.all()], default=0)
    for case in cases:
        question, created = Question.objects.get_or_create(
            key=f"unknown-{case.number}",
            defaults={"kind": Question.Kind.UNKNOWN_CASE, "case": case, "stem": "Type the diagnosis."},
        )
        if created:
            question.authors.add(by)
        if not quiz.entries.filter(question=question).exists():
            order += 1
            QuizQuestion.objects.create(quiz=quiz, question=question, order=order)
            added.append(question)
    return added


def attempt_start(*, quiz: Quiz, user, shuffle: random.Random | None = None) -> Attempt:
    """Resume the user's unfinished attempt at the quiz, or start one in a fresh order.

    The attempt's deadline is the time limit's end or the quiz's closing time, whichever comes first.
    """
    if not Quiz.objects.open_to(user).filter(pk=quiz.pk).exists():
        raise QuizUnavailable(f"The quiz “{quiz.title}” is not open to you now.")
    unfinished = Attempt.objects.filter(quiz=quiz, user=user, finished_at__isnull=True).first()
    if unfinished is not None:
        return unfinished
    entries = quiz.entries.filter(question__in=Question.objects.filter(readable_by(user)))
    entries = entries.select_related("question").prefetch_related("question__options")
    questions = [entry.question for entry in entries]
    shuffle = shuffle or random.SystemRandom()
    if quiz.shuffle_questions:
        shuffle.shuffle(questions)
    option_ids = {}
    for question in questions:
        ids = [option.pk for option in question.options.all()]
        if quiz.shuffle_options:
            shuffle.shuffle(ids)
        option_ids[str(question.pk)] = ids
    started = timezone.now()
    ends = [started + timedelta(minutes=quiz.time_limit_minutes)] if quiz.time_limit_minutes else []
    ends += [quiz.closes_at] if quiz.closes_at else []
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                quiz=quiz,
                user=user,
                mode=quiz.mode,
                question_ids=[question.pk for question in questions],
                option_ids=option_ids,
                started_at=started,
                deadline=min(ends, default=None),
            )
    except IntegrityError:  # a second start raced this one
        return Attempt.objects.get(quiz=quiz, user=user, finished_at__isnull=True)


@transaction.atomic
def attempt_answer(*, attempt: Attempt, question: Question, answer: Answer) -> Response:
    """Mark and keep the one answer to a question of the attempt; a second answer to it changes nothing.

    Answers after the deadline are kept but not counted. In practice (and review) a miss joins the review
    queue at once and a case is revealed once all its questions but clicks are answered; an exam waits for the end.
    """
    attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)  # no answer lands after the score
    if attempt.finished_at is not None:
        raise AnswerRefused("This attempt is finished: its answers can no longer change.")
    if question.pk not in attempt.question_ids:
        raise AnswerRefused("That question is not part of this attempt.")
    existing = attempt.responses.filter(question=question).first()
    if existing is not None:
        return existing
    response = Response(attempt=attempt, question=question, answered_at=timezone.now())
    response.in_time = not attempt.is_over_at(response.answered_at)
    response.is_correct = _mark(question, answer, response, attempt)
    response.save()
    if attempt.mode == Quiz.Mode.PRACTICE:
        _review_after(attempt, [response])
        if question.reveals_case:
            _reveal_answered_cases(attempt, [question.case_id])
    return response


def _mark(question: Question, answer: Answer, response: Response, attempt: Attempt) -> bool:
    if question.kind == Question.Kind.SINGLE_BEST:
        shown = attempt.option_ids.get(str(question.pk), [])
        position = answer.option_position
        if position is None or not 0 <= position < len(shown):
            raise AnswerRefused("Choose one of the options.")
        response.option = question.options.get(pk=shown[position])
        return response.option.is_correct
    if question.kind == Question.Kind.UNKNOWN_CASE:
        text = answer.text.strip()[: Response._meta.get_field("text").max_length]
        if not text:
            raise AnswerRefused("Type a diagnosis.")
        response.text = text
        topic = question.subject
        if topic is None:
            return matching.mark_diagnosis(text, question.case.diagnosis).correct
        return matching.mark_diagnosis(text, topic.name, topic.synonym_list).correct
    if answer.x is None or answer.y is None or answer.slice_number is None:
        raise AnswerRefused("Click on the image where the finding is.")
    response.click_x, response.click_y, response.click_slice = answer.x, answer.y, answer.slice_number
    image = question.series.images.first()
    aspect = image.height / image.width if image and image.width else 1.0
    return scoring.click_hits(question.target, x=answer.x, y=answer.y, slice_number=answer.slice_number, aspect=aspect)


@transaction.atomic
def attempt_finish(*, attempt: Attempt) -> Attempt:
    """Close the attempt and score it: answers in time count; unanswered questions count as wrong.

    Every case the attempt asked about, but by a click question alone, is revealed (its results show their
    diagnoses); an exam's misses join the review queue now.
    """
    attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.finished_at is not None:
        return attempt
    responses = list(attempt.responses.select_related("question"))
    attempt.score = scoring.score(sum(response.counts for response in responses), len(attempt.question_ids))
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["score", "finished_at"])
    if attempt.mode == Quiz.Mode.EXAM:
        _review_after(attempt, responses)
    case_ids = Question.objects.filter(pk__in=attempt.question_ids, case__isnull=False).values_list("case", flat=True)
    _reveal_answered_cases(attempt, list(case_ids), finished=True)
    return attempt


def _review_after(attempt: Attempt, responses: list[Response]) -> None:
    """Missed questions join the review queue; a review session's right answers move their items on."""
    for response in responses:
        if not response.is_correct:
            review_record(user=attempt.user, question=response.question, outcome="missed")
        elif attempt.is_review:
            review_record(user=attempt.user, question=response.question, outcome="correct")


def _reveal_answered_cases(attempt: Attempt, case_ids: list[int], *, finished: bool = False) -> None:
    """Reveal each case once every question of the attempt that reveals it is answered (or the attempt is over)."""
    answers = {response.question_id: response.text for response in attempt.responses.all()}
    questions = (
        Question.objects.filter(pk__in=attempt.question_ids, case__in=case_ids)
        .exclude(kind=Question.Kind.CLICK)
        .filter(readable_by(attempt.user))
    )
    questions = questions.select_related("case")
    by_case: dict[int, list[Question]] = {}
    for question in questions:
        by_case.setdefault(question.case_id, []).append(question)
    for tied in by_case.values():
        if finished or all(question.pk in answers for question in tied):
            typed = next((answers[q.pk] for q in tied if q.kind == Question.Kind.UNKNOWN_CASE and q.pk in answers), "")
            case_services.case_reveal(case=tied[0].case, user=attempt.user, committed_answer=typed)


# ---- spaced review ----


def review_record(*, user, outcome: str, question: Question | None = None, case=None, today: date | None = None):
    """Schedule the next review of a question or case after an outcome (correct, partial, missed).

    A new item starts as SM-2's first review; a second review on the same day only counts if it is a miss.
    """
    today = today or timezone.localdate()
    first = scheduling.first_review(today)
    item, created = ReviewItem.objects.get_or_create(
        user=user,
        question=question,
        case=case,
        defaults={
            "repetitions": first.repetitions,
            "interval_days": first.interval_days,
            "ease": first.ease,
            "due": first.due,
            "last_reviewed": today,
        },
    )
    if created and scheduling.grade(outcome) < scheduling.PASSING_GRADE:
        return item
    if not created and item.last_reviewed == today and scheduling.grade(outcome) >= scheduling.PASSING_GRADE:
        return item
    state = scheduling.next_review(item.state, outcome, today)
    item.repetitions, item.interval_days, item.ease, item.due = (
        state.repetitions,
        state.interval_days,
        state.ease,
        state.due,
    )
    item.last_reviewed = today
    item.save()
    return item


def review_session_start(*, user) -> Attempt | None:
    """Resume the open review session, or start one over the due questions, most overdue first.

    At most ``REVIEW_SESSION_SIZE``; the review queue page (``review_queue_for``) counts the same questions.
    """
    unfinished = Attempt.objects.filter(user=user, quiz__isnull=True, finished_at__isnull=True).first()
    if unfinished is not None:
        return unfinished
    due = ReviewItem.objects.filter(user=user, question__isnull=False, due__lte=timezone.localdate())
    due = due.filter(question__in=Question.objects.filter(readable_by(user)))
    question_ids = list(due.order_by("due", "pk").values_list("question_id", flat=True)[:REVIEW_SESSION_SIZE])
    if not question_ids:
        return None
    option_ids = {}
    for question in Question.objects.filter(pk__in=question_ids).prefetch_related("options"):
        option_ids[str(question.pk)] = [option.pk for option in question.options.all()]
    return Attempt.objects.create(user=user, mode=Quiz.Mode.PRACTICE, question_ids=question_ids, option_ids=option_ids)
