"""The question editor's picker: it lists only the chosen case's images, for cases the author may edit, and the
server refuses a forged image or stage with a message the author reads."""

import logging

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Image
from cases.tests.factories import make_case, make_image, make_series
from quizzes.models import Question
from quizzes.tests.test_admin import question_form

pytestmark = pytest.mark.django_db

FIVE = [("a", False), ("b", True), ("c", False), ("d", False), ("e", False)]


def own_case(author, stages: int = 2):
    case = make_case(authors=[author])
    for _ in range(stages):
        make_image(series=make_series(case=case, label_confirmed=True))
    return case


def test_the_picker_lists_only_the_cases_stages_shown_before_the_reveal(client, faculty):
    case = own_case(faculty)
    stack = make_series(case=case, label_confirmed=True)
    slices = [make_image(series=stack, order=order) for order in range(1, 8)]
    Image.objects.filter(pk=slices[4].pk).update(is_key=True)
    make_image(series=make_series(case=case, label_confirmed=True, after_reveal=True))
    make_image(series=make_series(case=case, label_confirmed=False))
    other = own_case(faculty)
    client.force_login(faculty)
    url = reverse("admin:quizzes_question_case_images", args=[case.pk])
    cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
    with CaptureQueriesContext(connection) as few:
        stages = client.get(url).json()["stages"]
    shown = case.series.filter(after_reveal=False, label_confirmed=True).order_by("order")
    assert [stage["id"] for stage in stages] == list(shown.values_list("pk", flat=True))
    listed = {image["id"] for stage in stages for image in stage["images"]}
    assert listed.isdisjoint(other.series.values_list("images", flat=True)), "no image of another case"
    assert stages[-1]["stack"] and stages[-1]["key"] == 4 and len(stages[-1]["images"]) == 7
    assert all(image["thumb"].startswith("/media/") for stage in stages for image in stage["images"])
    for order in range(8, 28):
        make_image(series=stack, order=order)
    cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["stages"][-1]["images"]) == 27
    assert len(many) == len(few), "the same queries for 7 slices or 27"


def test_the_picker_refuses_a_case_the_author_may_not_edit(client, faculty, other_faculty, resident):
    case = own_case(other_faculty)
    client.force_login(faculty)
    response = client.get(reverse("admin:quizzes_question_case_images", args=[case.pk]))
    assert response.status_code == 403 and "not yours" in response.json()["error"]
    client.force_login(resident)
    assert client.get(reverse("admin:quizzes_question_case_images", args=[case.pk])).status_code in (302, 403)


def test_a_picked_image_of_the_case_is_saved(client, faculty):
    case = own_case(faculty)
    image = case.series.first().images.get()
    client.force_login(faculty)
    data = question_form(FIVE) | {"case": case.pk, "image": image.pk}
    response = client.post(reverse("admin:quizzes_question_add"), data)
    assert response.status_code == 302
    assert Question.objects.get(key="new-question").image == image


def test_a_forged_image_of_another_case_is_refused_with_a_message(client, faculty, other_faculty, caplog):
    mine, theirs = own_case(faculty), own_case(other_faculty)
    client.force_login(faculty)
    foreign = theirs.series.first().images.get()
    response = client.post(
        reverse("admin:quizzes_question_add"), question_form(FIVE) | {"case": mine.pk, "image": foreign.pk}
    )
    assert response.status_code == 200 and "Pick the image from the question&#x27;s case." in response.content.decode()
    with caplog.at_level(logging.WARNING, logger="quizzes.admin"):
        response = client.post(
            reverse("admin:quizzes_question_add"), question_form(FIVE) | {"case": theirs.pk, "image": foreign.pk}
        )
    assert response.status_code == 200 and "this one is not yours" in response.content.decode()
    response = client.post(reverse("admin:quizzes_question_add"), question_form(FIVE) | {"image": foreign.pk})
    assert "Choose the case first, then pick one of its images." in response.content.decode()
    assert "Refused a picked image" in caplog.text
    assert not Question.objects.filter(key="new-question").exists()


def click_form(case, series, **target) -> dict:
    data = question_form([]) | {"kind": "click", "case": case.pk, "series": series.pk, "stem": "Mark it."}
    return data | {"slice_from": "1", "slice_to": "1", **target}


def test_a_drawn_polygon_target_is_saved_and_a_crossing_one_refused(client, faculty):
    case = own_case(faculty)
    series = case.series.first()
    client.force_login(faculty)
    url = reverse("admin:quizzes_question_add")
    bow_tie = click_form(
        case, series, target_shape="polygon", target_points="[[0.2,0.2],[0.6,0.6],[0.6,0.2],[0.2,0.6]]"
    )
    response = client.post(url, bow_tie)
    assert response.status_code == 200 and "crosses itself" in response.content.decode()
    square = bow_tie | {"target_points": "[[0.2,0.2],[0.6,0.2],[0.6,0.6],[0.2,0.6]]"}
    assert client.post(url, square).status_code == 302
    question = Question.objects.get(key="new-question")
    assert question.target_shape == "polygon" and question.target_points[2] == [0.6, 0.6]
    assert question.target_x is None


def test_forged_polygon_points_are_refused_with_a_message(client, faculty):
    case = own_case(faculty)
    client.force_login(faculty)
    data = click_form(case, case.series.first(), target_shape="polygon", target_points='[["a","b"],[0,0],[1,0]]')
    response = client.post(reverse("admin:quizzes_question_add"), data)
    assert response.status_code == 200 and "Every corner must lie on the image." in response.content.decode()
    assert not Question.objects.filter(key="new-question").exists()


def test_a_click_question_without_a_target_asks_for_one_to_be_drawn(client, faculty):
    case = own_case(faculty)
    series = case.series.first()
    client.force_login(faculty)
    response = client.post(reverse("admin:quizzes_question_add"), click_form(case, series, target_shape="circle"))
    assert response.status_code == 200 and "Draw the target on the image" in response.content.decode()


def test_a_forged_stage_of_another_authors_case_is_refused(client, faculty, other_faculty):
    theirs = own_case(other_faculty)
    client.force_login(faculty)
    square = "[[0.2,0.2],[0.6,0.2],[0.6,0.6],[0.2,0.6]]"
    data = click_form(theirs, theirs.series.first(), target_shape="polygon", target_points=square)
    response = client.post(reverse("admin:quizzes_question_add"), data)
    assert response.status_code == 200 and "this one is not yours" in response.content.decode()
    assert not Question.objects.filter(key="new-question").exists()
