"""A click-the-finding question whose target is a polygon: marked by the polygon, shown after answering, and
refused on save when its outline crosses itself; circle questions keep working beside it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.tests.factories import make_case, make_image, make_series
from quizzes.models import Attempt, Question, Quiz
from quizzes.tests.factories import make_click, make_quiz

pytestmark = pytest.mark.django_db

# An "L": the corner of the L's inside, (0.6, 0.6), is outside the target.
L_SHAPE = [[0.2, 0.2], [0.4, 0.2], [0.4, 0.6], [0.8, 0.6], [0.8, 0.8], [0.2, 0.8]]


def polygon_question(key: str, points=L_SHAPE) -> Question:
    case = make_case()
    series = make_series(case=case)
    make_image(series=series)
    polygon = {"target_shape": Question.Shape.POLYGON, "target_points": points}
    return make_click(case=case, series=series, key=key, target_x=None, target_y=None, target_radius=None, **polygon)


def answered(client, question: Question, x: float, y: float) -> str:
    client.post(reverse("quizzes:quiz-start", args=[make_quiz(questions=[question], mode=Quiz.Mode.PRACTICE).slug]))
    attempt = Attempt.objects.filter(finished_at__isnull=True).latest("pk")
    response = client.post(
        reverse("quizzes:attempt-answer", args=[attempt.pk]), {"question": question.pk, "x": x, "y": y, "slice": 1}
    )
    return client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("x", "y", "verdict"), [(0.3, 0.7, "Correct"), (0.6, 0.4, "Incorrect")])
def test_a_click_inside_the_polygon_is_right_and_outside_it_wrong(client, resident, x, y, verdict):
    question = polygon_question(f"click-l-{verdict.lower()}")
    client.force_login(resident)
    page = answered(client, question, x, y)
    assert f">{verdict}</h2>" in page
    assert "inside the yellow outline" in page
    assert '<polygon points="' in page and 'class="target-circle"' in page, "the target is drawn after answering"
    assert question.responses.get().is_correct is (verdict == "Correct")


def test_the_polygon_is_not_on_the_question_page_before_answering(client, resident):
    question = polygon_question("click-l-hidden")
    client.force_login(resident)
    client.post(reverse("quizzes:quiz-start", args=[make_quiz(questions=[question]).slug]))
    attempt = Attempt.objects.get(finished_at__isnull=True)
    page = client.get(attempt.get_absolute_url()).content.decode()
    data = client.get(reverse("quizzes:question-images", args=[attempt.pk, question.pk])).content.decode()
    assert "<polygon" not in page and "0.4, 0.6" not in data and "target" not in data


def test_a_self_intersecting_polygon_is_refused_on_save_and_a_circle_keeps_its_values():
    question = polygon_question("click-bow-tie")
    question.target_points = [[0.2, 0.2], [0.6, 0.6], [0.6, 0.2], [0.2, 0.6]]
    with pytest.raises(ValidationError) as refused:
        question.full_clean()
    assert "crosses itself" in str(refused.value.message_dict["target_points"])

    circle = make_click(case=question.case, series=question.series, key="click-circle")
    circle.full_clean()
    kept = (circle.target_shape, circle.target_x, circle.target_radius, circle.target_points)
    assert kept == ("circle", 0.5, 0.1, [])
