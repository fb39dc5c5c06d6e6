"""Questions and quizzes for tests."""

import itertools

from quizzes.models import Option, Question, Quiz, QuizQuestion

_numbers = itertools.count(1)


def make_sba(*, correct: int = 0, **overrides) -> Question:
    """A single-best-answer question whose options are "option 0" … "option 4", ``correct`` the right one."""
    number = next(_numbers)
    fields = {"key": f"sba-{number}", "kind": Question.Kind.SINGLE_BEST, "stem": f"Stem {number}?"}
    question = Question.objects.create(**{**fields, "explanation": f"Teaching point {number}.", **overrides})
    for index in range(5):
        Option.objects.create(
            question=question,
            order=index,
            text=f"option {index}",
            is_correct=index == correct,
            rationale=f"Rationale {number}.{index}",
        )
    return question


def make_click(*, case, series, **overrides) -> Question:
    """A click-the-finding question on ``series`` of ``case``: the target a circle of radius 0.1 at the centre."""
    fields = {"key": f"click-{next(_numbers)}", "kind": Question.Kind.CLICK, "stem": "Mark it."}
    target = {"target_x": 0.5, "target_y": 0.5, "target_radius": 0.1}
    return Question.objects.create(**{**fields, **target, "case": case, "series": series, **overrides})


def make_quiz(*, questions=(), **overrides) -> Quiz:
    number = next(_numbers)
    fields = {"slug": f"quiz-{number}", "title": f"Quiz {number}", "is_published": True, "shuffle_questions": False}
    quiz = Quiz.objects.create(**{**fields, **overrides})
    for order, question in enumerate(questions, start=1):
        QuizQuestion.objects.create(quiz=quiz, question=question, order=order)
    return quiz


def option(question: Question, index: int):
    return question.options.get(text=f"option {index}")


def pick(attempt, question: Question, index: int) -> int:
    """The position, as the attempt shows the options, of "option <index>"."""
    return attempt.option_ids[str(question.pk)].index(option(question, index).pk)
