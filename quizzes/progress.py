"""A resident's progress: their attempts, accuracy by kind, topic and modality, and the score chart."""

import math
from collections import defaultdict

from django.db.models import Prefetch, Q

from cases.differentials import top_three_for
from cases.models import Case, Reveal, Series

from .models import Attempt, Question, Quiz, Response
from .selectors import Accuracy, as_closed, finished_or_over


def progress_for(user) -> dict:
    """A resident's history: finished attempts, and accuracy by topic, modality and anatomic region."""
    attempts = [
        as_closed(attempt)
        for attempt in Attempt.objects.filter(finished_or_over(), user=user)
        .select_related("quiz")
        .prefetch_related("responses")
        .order_by("started_at")
    ]
    # An exam's answers count once it is over: before, they would tell the resident which were right.
    responses = (
        Response.objects.filter(attempt__user=user)
        .filter(finished_or_over("attempt__") | Q(attempt__mode=Quiz.Mode.PRACTICE))
        .select_related("question__topic", "question__case__topic", "question__series", "question__image__series")
        .prefetch_related(Prefetch("question__case__series", queryset=Series.objects.open()))
    )
    tallies = {
        "topic": defaultdict(lambda: [0, 0]),
        "modality": defaultdict(lambda: [0, 0]),
        "region": defaultdict(lambda: [0, 0]),
    }
    for response in responses:
        question = response.question
        labels = {"topic": [question.named_topic.name if question.named_topic else "No topic"]}
        case = question.case
        labels["modality"] = _modalities(question)
        labels["region"] = [case.get_region_display()] if case else []
        for kind, names in labels.items():
            for name in names:
                tallies[kind][name][0] += 1
                tallies[kind][name][1] += response.counts
    accuracy = {
        kind: [Accuracy(label, answered, correct) for label, (answered, correct) in sorted(counts.items())]
        for kind, counts in tallies.items()
    }
    cases_done = Reveal.objects.filter(user=user, case__in=Case.objects.viewable()).count()
    return {
        "attempts": attempts,
        "accuracy": accuracy,
        "chart": _chart(attempts),
        "cases_done": cases_done,
        "top_three": top_three_for(user),
    }


def _modalities(question: Question) -> list[str]:
    """The modalities a question shows: its stage's, its image's, or the stages its unknown case shows before
    any gate."""
    if question.kind == Question.Kind.CLICK:
        return [question.series.get_modality_display()]
    if question.image_id:
        return [question.image.series.get_modality_display()]
    if question.kind == Question.Kind.UNKNOWN_CASE:
        return sorted({series.get_modality_display() for series in question.case.series.all()})
    return []


# The progress chart's drawing area inside its SVG, in SVG units: room on the left for the score labels and
# below for the dates.
CHART_WIDTH, CHART_HEIGHT = 640, 230
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 64, 600, 14, 180
CHART_DATE_LABELS = 6


def _chart(attempts: list[Attempt]) -> dict:
    """Place the last 30 attempts' scores on the progress chart (oldest left), with its axes' ticks and labels."""
    recent = attempts[-30:]
    plot_width, plot_height = CHART_RIGHT - CHART_LEFT, CHART_BOTTOM - CHART_TOP
    if len(recent) == 1:
        xs = [CHART_LEFT + plot_width / 2]
    else:
        xs = [CHART_LEFT + index * plot_width / (len(recent) - 1) for index in range(len(recent))]
    dots = [
        {"x": round(x, 1), "y": round(CHART_BOTTOM - (attempt.score or 0) * plot_height, 1), "attempt": attempt}
        for x, attempt in zip(xs, recent, strict=True)
    ]
    # A date under every step-th attempt and the last, at most CHART_DATE_LABELS of them, none crowding the last.
    step = max(1, math.ceil((len(dots) - 1) / (CHART_DATE_LABELS - 1)))
    shown = [*range(0, len(dots) - 1, step), len(dots) - 1] if dots else []
    if len(shown) > 2 and shown[-1] - shown[-2] < step:
        del shown[-2]
    return {
        "points": " ".join(f"{dot['x']},{dot['y']}" for dot in dots),
        "dots": dots,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_RIGHT,
        "top": CHART_TOP,
        "bottom": CHART_BOTTOM,
        "y_ticks": [
            {"y": round(CHART_BOTTOM - percent / 100 * plot_height, 1), "percent": percent} for percent in (0, 50, 100)
        ],
        "x_ticks": [{"x": dots[index]["x"], "date": dots[index]["attempt"].started_at} for index in shown],
        "y_title": round((CHART_TOP + CHART_BOTTOM) / 2, 1),
        "x_title": round((CHART_LEFT + CHART_RIGHT) / 2, 1),
    }
