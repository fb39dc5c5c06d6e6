"""Invariant 1 for questions written on a case still in the works: a question may name a draft or a case in review
(its author picks the images while writing it), and a published quiz holding one anyway (made outside the quiz
editor, which refuses it, or whose case went back to draft) never serves it — not its stem, its options, its
images or its case — to any reader, the case's own author included, in a quiz or in review."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from cases.tests.factories import make_case, make_image, make_series
from quizzes import services
from quizzes.models import Attempt, Question
from quizzes.tests.factories import make_click, make_quiz, make_sba

from .test_answer_leak import client_for, plain_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz_with_unpublished(faculty):
    """A published quiz: one ordinary question, and four whose case (or image's case) is a draft or in review."""
    draft = make_case(authors=[faculty], status=Case.Status.DRAFT, diagnosis="Draftonly diagnosis")
    stage = make_series(case=draft, label_confirmed=True)
    image = make_image(series=stage)
    in_review = make_case(authors=[faculty], status=Case.Status.IN_REVIEW, diagnosis="Reviewonly diagnosis")
    make_image(series=make_series(case=in_review, label_confirmed=True))
    hidden = [
        make_sba(case=draft, image=image, stem="Hiddenstem one?"),
        make_click(case=draft, series=stage, stem="Hiddenstem two."),
        make_sba(image=image, stem="Hiddenstem three?"),  # no case named, but the image is the draft's
        Question.objects.create(key="unknown-review", kind="unknown", case=in_review, stem="Hiddenstem four?"),
    ]
    shown = make_sba(stem="Plainstem?")
    quiz = make_quiz(questions=[*hidden, shown], slug="mixed", title="Mixed")
    secrets = ["hiddenstem", "draftonly", "reviewonly", draft.number, in_review.number, image.file.name]
    secrets += [option.rationale.lower() for question in hidden for option in question.options.all()]
    return {"quiz": quiz, "hidden": hidden, "shown": shown, "image": image, "secrets": secrets}


def assert_hidden(body: str, secrets: list[str], where: str) -> None:
    text = plain_text(body) + body
    for secret in secrets:
        assert secret.lower() not in text.lower(), f"{where} shows {secret!r}"


@pytest.mark.parametrize("role", ["resident", "faculty"])
def test_a_published_quiz_never_serves_a_question_of_an_unpublished_case(request, role, quiz_with_unpublished):
    quiz, hidden, secrets = (
        quiz_with_unpublished["quiz"],
        quiz_with_unpublished["hidden"],
        quiz_with_unpublished["secrets"],
    )
    client = client_for(role, request)
    for url in (reverse("quizzes:quiz-list"), reverse("quizzes:quiz-detail", args=[quiz.slug])):
        assert_hidden(client.get(url).content.decode(), secrets, url)
    client.post(reverse("quizzes:quiz-start", args=[quiz.slug]))
    attempt = Attempt.objects.get(quiz=quiz)
    assert attempt.question_ids == [quiz_with_unpublished["shown"].pk], "the unpublished cases' questions left out"
    page = client.get(attempt.get_absolute_url()).content.decode()
    assert "Plainstem?" in page and "of 1" in page
    assert_hidden(page, secrets, "the attempt")
    for question in hidden:
        images = reverse("quizzes:question-images", args=[attempt.pk, question.pk])
        assert client.get(images).status_code == 404
        answer = {"question": question.pk, "option": 0, "x": 0.5, "y": 0.5, "slice": 1, "text": "a guess"}
        assert client.post(reverse("quizzes:attempt-answer", args=[attempt.pk]), answer).status_code == 400
    media = reverse("cases:media-file", args=[quiz_with_unpublished["image"].file.name])
    assert client.get(media).status_code == (200 if role == "faculty" else 404), "the author sees their draft"
    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    results = client.get(reverse("quizzes:attempt-results", args=[attempt.pk])).content.decode()
    assert "Plainstem?" in results
    assert_hidden(results, secrets, "the results")


def test_a_review_session_never_brings_back_a_question_of_an_unpublished_case(client, resident, quiz_with_unpublished):
    yesterday = timezone.localdate() - timedelta(days=1)
    for question in [*quiz_with_unpublished["hidden"], quiz_with_unpublished["shown"]]:
        services.review_record(user=resident, question=question, outcome="missed", today=yesterday)
    client.force_login(resident)
    queue = client.get(reverse("quizzes:review-queue")).content.decode()
    assert_hidden(queue, quiz_with_unpublished["secrets"], "the review queue")
    client.post(reverse("quizzes:review-start"))
    session = Attempt.objects.get(user=resident, quiz__isnull=True)
    assert session.question_ids == [quiz_with_unpublished["shown"].pk]
    page = client.get(session.get_absolute_url()).content.decode()
    assert "Plainstem?" in page
    assert_hidden(page, quiz_with_unpublished["secrets"], "the review session")
