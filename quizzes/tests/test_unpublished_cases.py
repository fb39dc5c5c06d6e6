"""A question may name a case still being written: its authors pick its images as they write it. No published
quiz may hold such a question, and the question editor refuses a draft of someone else."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.models import Case
from quizzes.models import Question, Quiz
from quizzes.tests.factories import make_click, make_quiz, make_sba
from quizzes.tests.test_admin_picker import click_form, own_case

pytestmark = pytest.mark.django_db

SQUARE = {"target_shape": "polygon", "target_points": "[[0.2,0.2],[0.6,0.2],[0.6,0.6],[0.2,0.6]]"}


def quiz_form(*questions: Question, published: bool) -> dict:
    data = {
        "slug": "with-drafts",
        "title": "Unknowns",
        "description": "",
        "mode": "practice",
        "time_limit_minutes": "",
        "entries-TOTAL_FORMS": str(len(questions)),
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    data |= {"is_published": "on"} if published else {}
    for index, question in enumerate(questions):
        data |= {f"entries-{index}-order": str(index + 1), f"entries-{index}-question": str(question.pk)}
    return data


@pytest.mark.parametrize("status", [Case.Status.DRAFT, Case.Status.IN_REVIEW])
def test_the_author_of_a_draft_or_a_case_in_review_writes_a_click_question_on_it(client, faculty, status):
    case = own_case(faculty)
    Case.objects.filter(pk=case.pk).update(status=status)
    client.force_login(faculty)
    response = client.post(reverse("admin:quizzes_question_add"), click_form(case, case.series.first(), **SQUARE))
    assert response.status_code == 302
    assert Question.objects.get(key="new-question").case == case


def test_another_faculty_member_cannot_name_someone_elses_draft(client, faculty, other_faculty):
    theirs = own_case(other_faculty)
    Case.objects.filter(pk=theirs.pk).update(status=Case.Status.DRAFT)
    client.force_login(faculty)
    data = click_form(theirs, theirs.series.first(), **SQUARE) | {"kind": "unknown", "series": ""}
    response = client.post(reverse("admin:quizzes_question_add"), data)
    assert response.status_code == 200
    assert "A case not yet published can be named only by its authors and editors." in response.content.decode()
    assert not Question.objects.filter(key="new-question").exists()


def test_a_quiz_with_a_question_of_a_draft_is_saved_unpublished_but_not_published(client, faculty):
    case = own_case(faculty)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)
    waiting = make_click(case=case, series=case.series.first(), key="draft-click")
    ready = make_sba()
    client.force_login(faculty)
    url = reverse("admin:quizzes_quiz_add")
    response = client.post(url, quiz_form(waiting, ready, published=True))
    assert response.status_code == 200
    assert "Residents cannot see the case of draft-click yet: publish the case, or take the question out." in (
        response.content.decode()
    )
    assert not Quiz.objects.filter(slug="with-drafts").exists()
    assert client.post(url, quiz_form(waiting, ready, published=False)).status_code == 302
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)
    ready_now = quiz_form(waiting, ready, published=True) | {"slug": "cases-ready"}
    assert client.post(url, ready_now).status_code == 302, "once the case is published, the quiz may be"
    assert Quiz.objects.get(slug="cases-ready").is_published


def test_a_question_in_a_published_quiz_cannot_be_moved_to_a_draft(faculty):
    draft = own_case(faculty)
    Case.objects.filter(pk=draft.pk).update(status=Case.Status.DRAFT)
    question = make_sba(case=Case.objects.get(number="tf101"))
    make_quiz(questions=[question])
    question.case = Case.objects.get(pk=draft.pk)
    with pytest.raises(ValidationError, match="This question is in a published quiz"):
        question.full_clean()
    Quiz.objects.update(is_published=False)
    question.full_clean()
