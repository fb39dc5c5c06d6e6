"""Reads: an attempt as its resident sees it, a quiz's cohort results, the review queue (progress: ``progress``)."""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Image, Reveal, Series

from . import scheduling, scoring
from .models import Attempt, Question, Quiz, Response, ReviewItem

# A review session holds at most this many due questions, most overdue first; the rest wait for the next one.
REVIEW_SESSION_SIZE = 20


@dataclass
class AttemptState:
    """An attempt with its questions in the order shown, their options in the order shown, and the answers."""

    attempt: Attempt
    questions: list[Question]
    responses: dict[int, Response] = field(default_factory=dict)

    @classmethod
    def for_user(cls, user, pk: int) -> "AttemptState":
        """Load the user's own attempt, or raise 404: one resident's attempt is invisible to everyone else."""
        attempt = Attempt.objects.select_related("quiz").filter(pk=pk, user=user).first()
        if attempt is None:
            raise Http404("No such attempt.")
        # A question whose case this reader may no longer open (made private, returned to draft) is left out.
        questions = (
            Question.objects.filter(pk__in=attempt.question_ids)
            .filter(readable_by(user))
            .select_related("topic", "case__topic", "image", "series")
        )
        questions = questions.prefetch_related(
            "options",
            Prefetch("series__images", queryset=Image.objects.shown()),
            Prefetch(
                "case__series",
                queryset=Series.objects.open().prefetch_related(Prefetch("images", queryset=Image.objects.shown())),
            ),
        )
        by_id = {question.pk: question for question in questions}
        ordered = [by_id[pk] for pk in attempt.question_ids if pk in by_id]
        for question in ordered:
            options = {option.pk: option for option in question.options.all()}
            shown = attempt.option_ids.get(str(question.pk), list(options))
            question.shown_options = [options[pk] for pk in shown if pk in options]
        responses = {response.question_id: response for response in attempt.responses.select_related("option")}
        for question in ordered:
            if question.kind in (Question.Kind.CLICK, Question.Kind.UNKNOWN_CASE):
                question.images_url = reverse("quizzes:question-images", args=[attempt.pk, question.pk])
            # The target is drawn only once the question is answered, or the attempt is over.
            answered = question.pk in responses or attempt.finished_at is not None
            if question.kind == Question.Kind.CLICK and answered:
                question.target_figure = _target_figure(question, responses.get(question.pk))
        return cls(attempt=attempt, questions=ordered, responses=responses)

    def answered(self, wanted: str) -> Question | None:
        """In practice, the question whose feedback is asked for (``?answered=<id>``) if it has been answered."""
        if self.attempt.mode != Quiz.Mode.PRACTICE:
            return None
        return next((q for q in self.questions if str(q.pk) == wanted and q.pk in self.responses), None)

    @property
    def correct_count(self) -> int:
        return sum(1 for response in self.responses.values() if response.counts)

    @property
    def duration(self):
        return (self.attempt.finished_at or timezone.now()) - self.attempt.started_at

    @property
    def current(self) -> Question | None:
        """The first question not answered yet."""
        return next((question for question in self.questions if question.pk not in self.responses), None)

    def number_of(self, question: Question) -> int:
        return self.questions.index(question) + 1

    @property
    def seconds_left(self) -> int | None:
        if self.attempt.deadline is None:
            return None
        return max(0, int((self.attempt.deadline - timezone.now()).total_seconds()))

    def rows(self) -> list["ResultRow"]:
        """Each question, numbered as shown, with the answer given: for the results and their summary."""
        return [
            ResultRow(number=number, question=question, response=self.responses.get(question.pk))
            for number, question in enumerate(self.questions, start=1)
        ]

    def summary(self) -> "ResultSummary":
        """Count the right, wrong and unanswered questions, overall and by question type and topic."""
        rows = self.rows()
        by_kind: dict[str, list[ResultRow]] = defaultdict(list)
        by_topic: dict[str, list[ResultRow]] = defaultdict(list)
        for row in rows:
            by_kind[row.question.get_kind_display()].append(row)
            by_topic[row.question.named_topic.name if row.question.named_topic else "No topic"].append(row)
        return ResultSummary(
            right=sum(row.outcome == ResultRow.RIGHT for row in rows),
            wrong=sum(row.outcome in (ResultRow.WRONG, ResultRow.LATE) for row in rows),
            unanswered=sum(row.outcome == ResultRow.UNANSWERED for row in rows),
            by_kind=_accuracies(by_kind.items()),
            by_topic=_accuracies(sorted(by_topic.items())),
        )


@dataclass(frozen=True)
class ResultRow:
    """One question of a finished attempt and how it went."""

    RIGHT, WRONG, LATE, UNANSWERED = "right", "wrong", "late", "unanswered"

    number: int
    question: Question
    response: Response | None

    @property
    def outcome(self) -> str:
        if self.response is None:
            return self.UNANSWERED
        if self.response.counts:
            return self.RIGHT
        return self.LATE if self.response.is_correct else self.WRONG

    @property
    def missed(self) -> bool:
        return self.outcome != self.RIGHT


def _accuracies(groups) -> list["Accuracy"]:
    return [Accuracy(label, len(rows), sum(not row.missed for row in rows)) for label, rows in groups]


@dataclass(frozen=True)
class ResultSummary:
    right: int
    wrong: int
    unanswered: int
    by_kind: list["Accuracy"]
    by_topic: list["Accuracy"]


def _target_figure(question: Question, response: Response | None) -> dict | None:
    """The slice in the middle of the target's range, with the target (a circle, or a polygon's ``points``) and
    the reader's mark in its pixels."""
    images = list(question.series.images.all())
    if not images:
        return None
    if question.slice_from or question.slice_to:
        first, last = question.slice_from or 1, question.slice_to or question.slice_from
        index = min(len(images), max(1, (first + last) // 2))
    else:
        index = 1 + len(images) // 2
    image = images[index - 1]
    figure = {"image": image, "slice": index, "mx": None, "my": None, "points": ""}
    if question.target_shape == Question.Shape.POLYGON:
        figure["points"] = " ".join(f"{x * image.width:.1f},{y * image.height:.1f}" for x, y in question.target_points)
    else:
        figure |= {
            "cx": round(question.target_x * image.width, 1),
            "cy": round(question.target_y * image.height, 1),
            "r": round(question.target_radius * image.width, 1),
        }
    if response is not None and response.click_x is not None:
        figure |= {"mx": round(response.click_x * image.width, 1), "my": round(response.click_y * image.height, 1)}
    return figure


def finished_or_over(prefix: str = "") -> Q:
    """Attempts that are finished, or whose time is up though nobody has finished them yet."""
    return Q(**{f"{prefix}finished_at__isnull": False}) | Q(**{f"{prefix}deadline__lt": timezone.now()})


def as_closed(attempt: Attempt) -> Attempt:
    """Show an attempt whose time is up as finished at its deadline and scored on its answers in time.

    Nothing is written: the attempt is finished for good (reveals, review items) when its resident asks for
    the results, by POST. Needs the attempt's responses prefetched.
    """
    if attempt.finished_at is None:
        answered = sum(response.counts for response in attempt.responses.all())
        attempt.finished_at = attempt.deadline
        attempt.score = scoring.score(answered, len(attempt.question_ids))
    return attempt


def readable_by(user) -> Q:
    """Questions without a case, or whose case this user may open now (never a draft or a case in review, even
    for its author: a quiz serves what its readers will see); the same for the case of a question's image."""
    cases = Case.objects.viewable().visible_to(user)
    return (Q(case__isnull=True) | Q(case__in=cases)) & (Q(image__isnull=True) | Q(image__series__case__in=cases))


@dataclass(frozen=True)
class Accuracy:
    label: str
    answered: int
    correct: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0


def cohort_results(quiz: Quiz) -> dict:
    """A quiz's finished attempts: the score distribution, and per question its difficulty, discrimination
    and most chosen wrong answers (options, typed diagnoses, or clicks off the target)."""
    # Each resident's first finished attempt: later ones come after seeing the answers.
    # Attempts whose time ran out count too, scored as they stand, though their residents never came back.
    firsts = Attempt.objects.filter(finished_or_over(), quiz=quiz, user=OuterRef("user")).order_by("started_at")
    attempts = [
        as_closed(attempt)
        for attempt in Attempt.objects.filter(finished_or_over(), quiz=quiz)
        .annotate(first=Subquery(firsts.values("pk")[:1]))
        .filter(pk=F("first"))
        .select_related("user")
        .prefetch_related(Prefetch("responses", queryset=Response.objects.select_related("option")))
        .order_by("started_at")
    ]
    questions = [entry.question for entry in quiz.entries.select_related("question")]
    rows = []
    for attempt in attempts:
        answers = {response.question_id: response for response in attempt.responses.all()}
        correct = [bool(answers.get(question.pk) and answers[question.pk].counts) for question in questions]
        rows.append({"attempt": attempt, "answers": answers, "correct": correct})
    items = []
    for index, question in enumerate(questions):
        item = [row["correct"][index] for row in rows]
        rest = [sum(row["correct"]) - row["correct"][index] for row in rows]
        wrong = Counter(
            _wrong_answer(row["answers"][question.pk])
            for row in rows
            if question.pk in row["answers"] and not row["answers"][question.pk].counts
        )
        items.append(
            {"question": question, "stats": scoring.item_statistics(item, rest), "wrong": wrong.most_common(3)}
        )
    counts = scoring.histogram([attempt.score or 0 for attempt in attempts])
    return {
        "attempts": attempts,
        "rows": rows,
        "items": items,
        "histogram": [
            {"label": f"{10 * index}–{10 * index + 10} %", "count": count, "percent": round(100 * count / max(counts))}
            if max(counts)
            else {"label": f"{10 * index}–{10 * index + 10} %", "count": 0, "percent": 0}
            for index, count in enumerate(counts)
        ],
    }


def _wrong_answer(response: Response) -> str:
    if response.option is not None:
        return response.option.text
    if response.text:
        return response.text.strip().lower()
    if not response.in_time:
        return "answered after the time limit"
    return "a click off the target"


def review_queue_for(user) -> dict:
    """What is due for review today and what comes next: queued questions and cases, and the cases rated
    "I missed it" after their reveal that were not reviewed yet (due the day after the reveal)."""
    today = timezone.localdate()
    items = list(ReviewItem.objects.filter(user=user).select_related("question__case", "case"))
    queued_cases = {item.case_id for item in items if item.case_id}
    missed = (
        Reveal.objects.filter(
            user=user, self_assessment=Reveal.Assessment.MISSED, case__in=Case.objects.viewable().visible_to(user)
        )
        .exclude(case__in=queued_cases)
        .select_related("case")
    )
    new_cases = [
        ReviewItem(user=user, case=reveal.case, due=timezone.localdate(reveal.revealed_at) + timedelta(days=1))
        for reveal in missed
    ]
    due = [item for item in [*items, *new_cases] if scheduling.is_due(item.state, today)]
    # Only questions a review session would hold: those whose case this reader may still open.
    readable = set(
        Question.objects.filter(
            readable_by(user), pk__in=[item.question_id for item in due if item.question_id]
        ).values_list("pk", flat=True)
    )
    due_questions = [item for item in due if item.question_id in readable]
    open_session = Attempt.objects.filter(user=user, quiz__isnull=True, finished_at__isnull=True).first()
    return {
        "due_questions": due_questions,
        "session_size": min(len(due_questions), REVIEW_SESSION_SIZE),
        "open_session": open_session,
        "due_cases": [item for item in due if item.case_id],
        "upcoming": sorted((item for item in items if item.due > today), key=lambda item: item.due)[:20],
    }


def quiz_text_naming_its_cases(quiz: Quiz) -> list[str]:
    """Return the diagnoses, topics and synonyms of the quiz's cases that its slug, title or description name.

    These are read before any answer: named there, every unknown of the quiz is answered.
    """
    text = " ".join([quiz.slug.replace("-", " "), quiz.title, quiz.description]).lower()
    names = set()
    for question in quiz.questions.filter(case__isnull=False).select_related("topic", "case__topic"):
        topic = question.subject
        names |= {question.case.diagnosis, *([topic.name, *topic.synonym_list] if topic else [])}
    return sorted(name for name in names if name and re.search(rf"\b{re.escape(name.lower())}\b", text))


def missed_cases_due(user, missed_at: dict) -> dict:
    """Return the day each case this user missed (case id → its reveal's time) comes back for review as an
    unknown: its queued review's day, or the day after its reveal, as ``review_queue_for`` counts them."""
    queued = dict(ReviewItem.objects.filter(user=user, case_id__in=list(missed_at)).values_list("case_id", "due"))
    return {
        case_id: queued.get(case_id, timezone.localdate(revealed_at) + timedelta(days=1))
        for case_id, revealed_at in missed_at.items()
    }
