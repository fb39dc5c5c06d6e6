"""Load the demonstration quizzes: ``fixtures/quiz_questions.json`` (single best answers) and
``fixtures/quizzes.json`` (questions on the demo cases, and the quizzes; ``"bank"`` takes every single best
answer). The questions on the demo cases sit in a quiz of their own, whose title and description name no
diagnosis: the bank's questions all name heterotopic ossification, so beside them an unknown is no unknown.

Idempotent like the case demo: a question or quiz that exists (by key or slug) is left as it is.
"""

import json
from pathlib import Path

from django.db import transaction

from cases.models import Case, Series, Topic

from .models import Option, Question, Quiz, QuizQuestion


@transaction.atomic
def quiz_demo_load(*, questions_path: Path, quizzes_path: Path, authors=()) -> list[str]:
    """Create the demo questions and quizzes that do not exist yet; return what was created."""
    bank = json.loads(Path(questions_path).read_text(encoding="utf-8"))["questions"]
    content = json.loads(Path(quizzes_path).read_text(encoding="utf-8"))
    created = []
    for data in [*bank, *content["questions"]]:
        if not Question.objects.filter(key=data["key"]).exists():
            _question_create(data, authors)
            created.append(f"question {data['key']}")
    for data in content["quizzes"]:
        if Quiz.objects.filter(slug=data["slug"]).exists():
            continue
        quiz = Quiz.objects.create(
            slug=data["slug"],
            title=data["title"],
            description=data["description"],
            mode=data["mode"],
            time_limit_minutes=data["time_limit_minutes"],
            is_published=True,
        )
        quiz.authors.set(authors)
        keys = [item["key"] for item in bank] if data["questions"] == "bank" else data["questions"]
        by_key = {question.key: question for question in Question.objects.filter(key__in=keys)}
        QuizQuestion.objects.bulk_create(
            QuizQuestion(quiz=quiz, question=by_key[key], order=order) for order, key in enumerate(keys, start=1)
        )
        created.append(f"quiz {quiz.slug}")
    return created


def _question_create(data: dict, authors) -> Question:
    case = Case.objects.get(number=data["case"]) if data.get("case") else None
    explanation = data.get("explanation", "")
    if data.get("source"):
        explanation = f"{explanation}\n\nSource: {data['source']}".strip()
    question = Question(
        key=data["key"],
        kind=data["kind"],
        stem=data["stem"],
        explanation=explanation,
        case=case,
        topic=Topic.objects.get(slug=data["topic"]) if data.get("topic") else None,
    )
    if data["kind"] == Question.Kind.CLICK:
        question.series = Series.objects.presented().get(case=case, modality=data["series_modality"])
        target = data["target"]
        question.target_x, question.target_y, question.target_radius = target["x"], target["y"], target["radius"]
        question.slice_from, question.slice_to = target.get("slice_from"), target.get("slice_to")
    question.full_clean()
    question.save()
    question.authors.set(authors)
    Option.objects.bulk_create(
        Option(
            question=question,
            order=order,
            text=option["text"],
            is_correct=option["correct"],
            rationale=option["rationale"],
        )
        for order, option in enumerate(data.get("options", []), start=1)
    )
    return question
