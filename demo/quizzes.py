"""Load the demonstration quizzes: ``fixtures/quiz_questions.json`` (single best answers) and
``fixtures/quizzes.json`` (questions on the demo cases, and the quizzes; ``"bank"`` takes every single best
answer). The questions on the demo cases sit in a quiz of their own, whose title and description name no
diagnosis: the bank's questions all name heterotopic ossification, so beside them an unknown is no unknown.

Idempotent like the case demo: a question or quiz that exists (by key or slug) is left as it is, except that
a question's explanation still citing a source the file lists under ``retired_sources`` is written anew.
"""

import json
from pathlib import Path

from django.db import transaction

from cases.models import Case, Series, Topic
from quizzes.models import Option, Question, Quiz, QuizQuestion


@transaction.atomic
def quiz_demo_load(*, questions_path: Path, quizzes_path: Path, authors=()) -> list[str]:
    """Create the demo questions and quizzes that do not exist yet, rewrite explanations citing retired
    sources; return what was created."""
    questions_file = json.loads(Path(questions_path).read_text(encoding="utf-8"))
    bank, retired = questions_file["questions"], questions_file.get("retired_sources", [])
    content = json.loads(Path(quizzes_path).read_text(encoding="utf-8"))
    created = []
    for data in [*bank, *content["questions"]]:
        existing = Question.objects.filter(key=data["key"]).first()
        if existing is None:
            _question_create(data, authors)
            created.append(f"question {data['key']}")
        elif any(source in existing.explanation for source in retired):
            existing.explanation = _explanation(data)
            existing.save(update_fields=["explanation"])
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
    question = Question(
        key=data["key"],
        kind=data["kind"],
        stem=data["stem"],
        explanation=_explanation(data),
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


def _explanation(data: dict) -> str:
    """Return a question's explanation followed by the works it cites."""
    sources = data.get("sources", [])
    if not sources:
        return data.get("explanation", "")
    label = "Source" if len(sources) == 1 else "Sources"
    return f"{data.get('explanation', '')}\n\n{label}: {' '.join(sources)}".strip()
