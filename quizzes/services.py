"""Writes: starting, answering and finishing attempts, and the spaced-review schedule."""

import logging
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import services as case_services
from cases.models import Reveal

from . import matching, scheduling, scoring
from .models import Attempt, Question, Quiz, QuizQuestion, Response, ReviewItem

logger = logging.getLogger(__name__)


class QuizUnavailable(Exception):
    """The quiz is not open to this user now."""


class AnswerRefused(Exception):
    """The answer cannot be taken: the attempt is finished, the question is not in it, or it is malformed."""


@dataclass(frozen=True)
class Answer:
    """What a resident gave: an option, a typed diagnosis, or a click (fractions of the image, 1-based slice)."""

    option_id: int | None = None
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
    """Resume the user's unfinished attempt at the quiz, or start one in a fresh order."""
    if not Quiz.objects.open_to(user).filter(pk=quiz.pk).exists():
        raise QuizUnavailable(f"The quiz “{quiz.title}” is not open to you now.")
    unfinished = Attempt.objects.filter(quiz=quiz, user=user, finished_at__isnull=True).first()
    if unfinished is not None:
        return unfinished
    entries = quiz.entries.select_related("question").prefetch_related("question__options")
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
    deadline = started + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                quiz=quiz,
                user=user,
                mode=quiz.mode,
                question_ids=[question.pk for question in questions],
                option_ids=option_ids,
                started_at=started,
                deadline=deadline,
            )
    except IntegrityError:  # a second start raced this one
        return Attempt.objects.get(quiz=quiz, user=user, finished_at__isnull=True)


def attempt_answer(*, attempt: Attempt, question: Question, answer: Answer) -> Response:
    """Mark and keep the one answer to a question of the attempt; a second answer to it changes nothing.

    Answers after the deadline are kept but not counted. A missed question joins the review queue.
    """
    if attempt.finished_at is not None:
        raise AnswerRefused("This attempt is finished: its answers can no longer change.")
    if question.pk not in attempt.question_ids:
        raise AnswerRefused("That question is not part of this attempt.")
    existing = attempt.responses.filter(question=question).first()
    if existing is not None:
        return existing
    response = Response(attempt=attempt, question=question, answered_at=timezone.now())
    response.in_time = attempt.deadline is None or response.answered_at <= attempt.deadline
    response.is_correct = _mark(question, answer, response, attempt)
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:  # the same answer posted twice at once: the first one stands
        return attempt.responses.get(question=question)
    if not response.is_correct:
        review_missed_question(user=attempt.user, question=question)
    elif attempt.is_review:
        review_record(user=attempt.user, question=question, outcome="correct")
    if attempt.mode == Quiz.Mode.PRACTICE and question.case_id:
        case_services.case_reveal(case=question.case, user=attempt.user, committed_answer=response.text)
    return response


def _mark(question: Question, answer: Answer, response: Response, attempt: Attempt) -> bool:
    if question.kind == Question.Kind.SINGLE_BEST:
        allowed = attempt.option_ids.get(str(question.pk), [])
        if answer.option_id not in allowed:
            raise AnswerRefused("Choose one of the options.")
        response.option = question.options.get(pk=answer.option_id)
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
    return scoring.click_hits(
        target_of(question), x=answer.x, y=answer.y, slice_number=answer.slice_number, aspect=aspect
    )


def target_of(question: Question) -> scoring.Target:
    return scoring.Target(
        question.target_x, question.target_y, question.target_radius, question.slice_from, question.slice_to
    )


@transaction.atomic
def attempt_finish(*, attempt: Attempt) -> Attempt:
    """Close the attempt and score it: answers in time count; unanswered questions count as wrong."""
    attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.finished_at is not None:
        return attempt
    responses = list(attempt.responses.select_related("question__case"))
    attempt.score = scoring.score(sum(response.counts for response in responses), len(attempt.question_ids))
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["score", "finished_at"])
    if attempt.mode == Quiz.Mode.EXAM:
        for response in responses:
            if response.question.case_id:
                case_services.case_reveal(
                    case=response.question.case, user=attempt.user, committed_answer=response.text
                )
    return attempt


def attempt_is_over(attempt: Attempt) -> bool:
    """Say whether the attempt can take no more answers that count: finished, or its time is up."""
    return attempt.finished_at is not None or (attempt.deadline is not None and timezone.now() > attempt.deadline)


# ---- spaced review ----


def review_missed_question(*, user, question: Question, today: date | None = None) -> ReviewItem:
    """Put a missed question in the user's review queue for tomorrow, or set it back if it was there."""
    return review_record(user=user, question=question, outcome="missed", today=today)


def review_record(*, user, outcome: str, question: Question | None = None, case=None, today: date | None = None):
    """Schedule the next review of a question or case after an outcome (correct, partial, missed)."""
    today = today or timezone.localdate()
    item, created = ReviewItem.objects.get_or_create(
        user=user, question=question, case=case, defaults={"due": today + timedelta(days=1)}
    )
    if created and outcome == "missed":
        item.last_reviewed = today
        item.save(update_fields=["last_reviewed"])
        return item
    state = scheduling.ReviewState(item.repetitions, item.interval_days, item.ease, item.due)
    state = scheduling.next_review(state, outcome, today)
    item.repetitions, item.interval_days, item.ease, item.due = (
        state.repetitions,
        state.interval_days,
        state.ease,
        state.due,
    )
    item.last_reviewed = today
    item.save()
    return item


def review_sync_cases(*, user) -> int:
    """Queue every case the user rated “I missed it” after its reveal that is not queued yet; return how many."""
    queued = ReviewItem.objects.filter(user=user, case__isnull=False).values("case")
    missed = Reveal.objects.filter(user=user, self_assessment=Reveal.Assessment.MISSED).exclude(case__in=queued)
    items = [
        ReviewItem(user=user, case_id=reveal.case_id, due=timezone.localdate(reveal.revealed_at) + timedelta(days=1))
        for reveal in missed
    ]
    ReviewItem.objects.bulk_create(items, ignore_conflicts=True)
    return len(items)


def review_session_start(*, user) -> Attempt | None:
    """Start a practice attempt over the user's due questions, most overdue first; None when none is due."""
    due = ReviewItem.objects.filter(user=user, question__isnull=False, due__lte=timezone.localdate())
    question_ids = list(due.order_by("due", "pk").values_list("question_id", flat=True)[:20])
    if not question_ids:
        return None
    option_ids = {}
    for question in Question.objects.filter(pk__in=question_ids).prefetch_related("options"):
        option_ids[str(question.pk)] = [option.pk for option in question.options.all()]
    return Attempt.objects.create(user=user, mode=Quiz.Mode.PRACTICE, question_ids=question_ids, option_ids=option_ids)
