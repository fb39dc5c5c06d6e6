"""Authoring quizzes: a single-best-answer question has five options, one correct; authors own what they write."""

import pytest
from django.urls import reverse

from cases.models import Case
from quizzes import services
from quizzes.models import Question, Quiz
from quizzes.tests.factories import make_quiz, make_sba

pytestmark = pytest.mark.django_db


def question_form(options: list[tuple[str, bool]]) -> dict:
    data = {
        "key": "new-question",
        "kind": "sba",
        "stem": "Which one?",
        "explanation": "",
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "5",
    }
    for index, (text, correct) in enumerate(options):
        data |= {
            f"options-{index}-order": str(index),
            f"options-{index}-text": text,
            f"options-{index}-rationale": "Why.",
        }
        if correct:
            data[f"options-{index}-is_correct"] = "on"
    return data


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([("a", True), ("b", False), ("c", False), ("d", False)], "exactly five options"),
        ([("a", True), ("b", True), ("c", False), ("d", False), ("e", False)], "exactly one option as correct"),
        ([("a", False), ("b", False), ("c", False), ("d", False), ("e", False)], "exactly one option as correct"),
    ],
)
def test_a_single_best_answer_needs_five_options_and_one_correct(client, faculty, options, message):
    client.force_login(faculty)
    response = client.post(reverse("admin:quizzes_question_add"), question_form(options))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Question.objects.filter(key="new-question").exists()


def test_the_author_owns_the_question_and_another_faculty_member_cannot_change_it(client, faculty, other_faculty):
    client.force_login(faculty)
    options = [("a", False), ("b", False), ("c", True), ("d", False), ("e", False)]
    response = client.post(reverse("admin:quizzes_question_add"), question_form(options))
    assert response.status_code == 302
    question = Question.objects.get(key="new-question")
    assert list(question.authors.all()) == [faculty] and question.options.get(is_correct=True).text == "c"
    client.force_login(other_faculty)
    page = client.get(reverse("admin:quizzes_question_change", args=[question.pk])).content.decode()
    assert 'name="stem"' not in page, "read only for another author"


def test_cases_are_added_to_a_quiz_as_unknowns_once(client, faculty):
    client.force_login(faculty)
    cases = list(Case.objects.filter(number__in=["tf101", "tf102"]))
    data = {
        "slug": "picked",
        "title": "Picked",
        "description": "",
        "mode": "exam",
        "time_limit_minutes": "",
        "shuffle_questions": "on",
        "add_cases": [case.pk for case in cases],
        "entries-TOTAL_FORMS": "0",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    assert client.post(reverse("admin:quizzes_quiz_add"), data).status_code == 302
    quiz = Quiz.objects.get(slug="picked")
    keys = [entry.question.key for entry in quiz.entries.select_related("question")]
    assert sorted(keys) == ["unknown-tf101", "unknown-tf102"], "the demo's unknown questions are reused"
    assert list(quiz.authors.all()) == [faculty]
    assert services.quiz_add_unknowns(quiz=quiz, cases=cases, by=faculty) == []
    assert quiz.entries.count() == 2


def test_moving_the_correct_answer_saves_and_answered_options_are_locked(client, faculty, resident):
    question = make_sba(correct=0)
    question.authors.add(faculty)
    options = list(question.options.order_by("order"))
    data = {
        "key": question.key,
        "kind": "sba",
        "stem": question.stem,
        "explanation": "",
        "options-TOTAL_FORMS": "5",
        "options-INITIAL_FORMS": "5",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "5",
    }
    for index, choice in enumerate(options):
        data |= {
            f"options-{index}-id": str(choice.pk),
            f"options-{index}-question": str(question.pk),
            f"options-{index}-order": str(index),
            f"options-{index}-text": choice.text,
            f"options-{index}-rationale": choice.rationale,
        }
    data["options-3-is_correct"] = "on"
    client.force_login(faculty)
    assert client.post(reverse("admin:quizzes_question_change", args=[question.pk]), data).status_code == 302
    assert question.options.get(is_correct=True).text == "option 3"

    attempt = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    services.attempt_answer(attempt=attempt, question=question, answer=services.Answer(option_position=0))
    page = client.get(reverse("admin:quizzes_question_change", args=[question.pk])).content.decode()
    assert 'name="options-0-text"' not in page, "options residents have answered are read only"


def test_a_quiz_whose_text_names_its_cases_diagnosis_is_flagged_to_its_author(client, faculty):
    """Its title is read above every question: "HO unknowns" answers them all."""
    client.force_login(faculty)
    data = {
        "slug": "ho-unknowns",
        "title": "Heterotopic ossification unknowns",
        "description": "",
        "mode": "exam",
        "time_limit_minutes": "",
        "add_cases": [Case.objects.get(number="tf103").pk],
        "entries-TOTAL_FORMS": "0",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:quizzes_quiz_add"), data, follow=True)
    warnings = [str(message) for message in response.context["messages"]]
    assert any("Heterotopic ossification" in text and "HO" in text for text in warnings), warnings
    neutral = {**data, "slug": "hip-unknowns", "title": "Unknowns: hips"}
    response = client.post(reverse("admin:quizzes_quiz_add"), neutral, follow=True)
    assert not any("Reword" in str(message) for message in response.context["messages"])
