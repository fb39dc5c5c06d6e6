"""Quiz pages: answers and rationales only after answering, one resident's attempt hidden from the others,
forged answers refused, and the faculty's cohort results."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Reveal
from cases.tests.factories import make_case, make_image, make_series, make_user, pass_gates
from quizzes import services
from quizzes.models import Attempt, Question, Quiz
from quizzes.selectors import REVIEW_SESSION_SIZE
from quizzes.tests.factories import make_click, make_quiz, make_sba, pick

pytestmark = pytest.mark.django_db


def started(client, quiz) -> Attempt:
    response = client.post(reverse("quizzes:quiz-start", args=[quiz.slug]))
    assert response.status_code == 302
    return Attempt.objects.get(quiz=quiz, finished_at__isnull=True)


def answer(client, attempt, question, **fields):
    return client.post(reverse("quizzes:attempt-answer", args=[attempt.pk]), {"question": question.pk, **fields})


def test_the_question_page_holds_no_answer_and_practice_feedback_follows_the_answer(client, resident):
    question = make_sba(correct=3)
    quiz = make_quiz(questions=[question], mode=Quiz.Mode.PRACTICE)
    client.force_login(resident)
    attempt = started(client, quiz)
    page = client.get(attempt.get_absolute_url()).content.decode()
    assert question.stem in page and "option 3" in page
    for hidden in [*(o.rationale for o in question.options.all()), question.explanation, "correct answer"]:
        assert hidden not in page

    response = answer(client, attempt, question, option=pick(attempt, question, 1))
    assert response["Location"].endswith(f"?answered={question.pk}")
    feedback = client.get(response["Location"]).content.decode()
    assert "Incorrect" in feedback and question.explanation in feedback
    assert all(o.rationale in feedback for o in question.options.all())


def test_exam_mode_gives_feedback_only_in_the_results(client, resident):
    first, second = make_sba(correct=0), make_sba(correct=0)
    quiz = make_quiz(questions=[first, second], mode=Quiz.Mode.EXAM)
    client.force_login(resident)
    attempt = started(client, quiz)
    response = answer(client, attempt, first, option=pick(attempt, first, 0))
    assert response["Location"] == attempt.get_absolute_url()
    after = client.get(f"{attempt.get_absolute_url()}?answered={first.pk}").content.decode()
    assert first.explanation not in after and second.stem in after, "the next question, no feedback"
    assert client.get(reverse("quizzes:attempt-results", args=[attempt.pk]))["Location"] == attempt.get_absolute_url()

    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    results = client.get(reverse("quizzes:attempt-results", args=[attempt.pk])).content.decode()
    assert "1 / 2" in results and first.explanation in results and second.explanation in results


def test_a_forged_or_replayed_answer_changes_nothing(client, resident):
    question = make_sba(correct=0)
    attempt_quiz = make_quiz(questions=[question])
    client.force_login(resident)
    attempt = started(client, attempt_quiz)
    answer(client, attempt, question, option=pick(attempt, question, 4))
    answer(client, attempt, question, option=pick(attempt, question, 0))
    assert not attempt.responses.get().is_correct
    assert answer(client, attempt, question, option="x").status_code == 400
    assert answer(client, attempt, make_sba(), option=1).status_code == 400
    assert answer(client, attempt, question, option=5).status_code == 400
    assert answer(client, attempt, question, text="x" * 201).status_code == 400


def test_another_residents_attempt_is_not_found(client, resident):
    quiz = make_quiz(questions=[make_sba()])
    owner = Client()
    owner.force_login(resident)
    attempt = started(owner, quiz)
    client.force_login(make_user("someone-else", "resident"))
    for name in ("quizzes:attempt-detail", "quizzes:attempt-results"):
        assert client.get(reverse(name, args=[attempt.pk])).status_code == 404
    assert client.post(reverse("quizzes:attempt-finish", args=[attempt.pk])).status_code == 404
    assert answer(client, attempt, Quiz.objects.get(pk=quiz.pk).questions.get(), option=1).status_code == 404


def test_cohort_results_and_csv_for_the_quiz_author_only(client, resident, faculty, other_faculty, editor):
    question = make_sba(correct=0)
    quiz = make_quiz(questions=[question], mode=Quiz.Mode.EXAM)
    quiz.authors.add(faculty)
    taker = Client()
    taker.force_login(resident)
    attempt = started(taker, quiz)
    answer(taker, attempt, question, option=pick(attempt, question, 2))
    taker.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    retake = started(taker, quiz)  # after seeing the answers: not part of the cohort's statistics
    answer(taker, retake, question, option=pick(retake, question, 0))
    taker.post(reverse("quizzes:attempt-finish", args=[retake.pk]))

    url = reverse("admin:quizzes_quiz_results", args=[quiz.pk])
    client.force_login(faculty)
    page = client.get(url).content.decode()
    assert "option 2 (1)" in page, "the most chosen wrong option"
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("admin:quizzes_quiz_results_csv", args=[quiz.pk])).content.decode()))
    )
    assert rows[0] == ["user", "started", "finished", "score", question.key]
    assert len(rows) == 2 and rows[1][0] == resident.username and rows[1][3:] == ["0.000", "0"]
    client.force_login(other_faculty)
    assert client.get(url).status_code == 403
    client.force_login(editor)
    assert client.get(url).status_code == 200
    client.force_login(resident)
    assert reverse("admin:login") in client.get(url)["Location"]


def test_opening_an_attempt_after_its_time_is_up_offers_the_results_and_writes_nothing(client, resident):
    quiz = make_quiz(questions=[make_sba()], time_limit_minutes=5, mode=Quiz.Mode.EXAM)
    client.force_login(resident)
    attempt = started(client, quiz)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    for name in ("quizzes:attempt-detail", "quizzes:attempt-results", "quizzes:progress"):
        client.get(reverse(name, args=[attempt.pk] if name != "quizzes:progress" else []), follow=True)
    attempt.refresh_from_db()
    assert attempt.finished_at is None, "a GET (a link prefetcher) does not finish the attempt"
    page = client.get(attempt.get_absolute_url()).content.decode()
    assert "Time is up" in page and reverse("quizzes:attempt-finish", args=[attempt.pk]) in page
    assert client.post(reverse("quizzes:attempt-finish", args=[attempt.pk])).status_code == 302
    attempt.refresh_from_db()
    assert attempt.finished_at is not None and attempt.score == 0


def test_progress_shows_accuracy_by_topic(client, resident):
    question = make_sba(correct=0)
    quiz = make_quiz(questions=[question])
    client.force_login(resident)
    attempt = started(client, quiz)
    answer(client, attempt, question, option=pick(attempt, question, 0))
    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    page = client.get(reverse("quizzes:progress")).content.decode()
    assert "No topic" in page and "100 %" in page and "<polyline" in page


def test_a_case_made_private_or_returned_to_draft_leaves_the_quiz(client, resident):
    hidden = make_case(brief_history="A telling history.")
    unknown = Question.objects.create(key="unknown-hidden", kind=Question.Kind.UNKNOWN_CASE, case=hidden, stem="?")
    quiz = make_quiz(questions=[unknown, make_sba()])
    for change in ({"access": Case.Access.PRIVATE}, {"status": Case.Status.DRAFT}):
        Case.objects.filter(pk=hidden.pk).update(access=Case.Access.INSTITUTION, status=Case.Status.PUBLISHED)
        client.force_login(resident)
        attempt = started(client, quiz)
        Case.objects.filter(pk=hidden.pk).update(**change)
        page = client.get(attempt.get_absolute_url()).content.decode()
        assert "A telling history." not in page and "of 1" in page
        client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
        assert (
            hidden.diagnosis not in client.get(reverse("quizzes:attempt-results", args=[attempt.pk])).content.decode()
        )
    Case.objects.filter(pk=hidden.pk).update(access=Case.Access.PRIVATE, status=Case.Status.PUBLISHED)
    unknown.refresh_from_db()
    with pytest.raises(ValidationError):
        unknown.full_clean()


def test_counts_of_one_are_singular_on_the_quiz_pages(client, resident):
    quiz = make_quiz(questions=[make_sba()], time_limit_minutes=1, mode=Quiz.Mode.EXAM)
    client.force_login(resident)
    listing = client.get(reverse("quizzes:quiz-list")).content.decode()
    detail = client.get(reverse("quizzes:quiz-detail", args=[quiz.slug])).content.decode()
    attempt = started(client, quiz)
    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    results = client.get(reverse("quizzes:attempt-results", args=[attempt.pk])).content.decode()
    assert "1 question ·" in listing and "1 minute" in listing
    assert "1 minute" in detail and "1 minute" in results
    for page in (listing, detail, results):
        assert "1 minutes" not in page and "1 questions" not in page


def test_the_review_queue_names_questions_by_their_kind_and_counts_what_a_session_holds(client, resident):
    case = Case.objects.get(number="tf101")
    questions = [make_sba(stem=f"Which grade has a {n} mm gap?", case=case) for n in range(REVIEW_SESSION_SIZE + 3)]
    yesterday = timezone.localdate() - timedelta(days=1)
    for question in questions:
        services.review_record(user=resident, question=question, outcome="missed", today=yesterday)
    later = make_sba(stem="Which grade is ankylosis?", key="internal-slug-ankylosis")
    services.review_record(user=resident, question=later, outcome="missed", today=timezone.localdate())
    client.force_login(resident)

    page = client.get(reverse("quizzes:review-queue")).content.decode()
    assert f"Review {REVIEW_SESSION_SIZE} of {REVIEW_SESSION_SIZE + 3} questions" in page
    assert "Single best answer question" in page and "internal-slug-ankylosis" not in page

    client.post(reverse("quizzes:review-start"))
    session = Attempt.objects.get(user=resident, quiz__isnull=True)
    assert len(session.question_ids) == REVIEW_SESSION_SIZE
    assert "Resume your review session" in client.get(reverse("quizzes:review-queue")).content.decode()


def test_exam_results_open_with_a_summary_and_fold_each_question(client, resident):
    right, wrong, skipped = make_sba(correct=0), make_sba(correct=0), make_sba(correct=0)
    quiz = make_quiz(questions=[right, wrong, skipped], mode=Quiz.Mode.EXAM)
    client.force_login(resident)
    attempt = started(client, quiz)
    answer(client, attempt, right, option=pick(attempt, right, 0))
    answer(client, attempt, wrong, option=pick(attempt, wrong, 2))
    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    url = reverse("quizzes:attempt-results", args=[attempt.pk])

    page = client.get(url).content.decode()
    summary = page[: page.index('id="questions-heading"')]
    for label, count in [("Right", 1), ("Wrong", 1), ("Unanswered", 1)]:
        assert f"<dt>{label}</dt><dd>{count}</dd>" in summary
    assert "<td>Single best answer</td><td>3</td><td>1</td><td>33 %</td>" in summary
    assert right.explanation not in summary, "the feedback comes after the summary"
    assert page.count('<details class="result') == 3 and "<details open" not in page and " open>" not in page

    missed = client.get(url, {"show": "missed"}).content.decode()
    assert missed.count('<details class="result') == 2
    assert missed.count('<details class="result result-') == missed.count("open>")
    assert wrong.explanation in missed and skipped.explanation in missed and right.explanation not in missed


def test_progress_counts_the_diagnosis_in_the_top_three_of_the_cases_revealed_with_a_differential(client, resident):
    client.force_login(resident)
    assert "Diagnosis in your top 3" not in client.get(reverse("quizzes:progress")).content.decode()
    reveal = lambda number, **entries: client.post(reverse("cases:case-reveal", args=[number]), entries)  # noqa: E731
    for number in ("tf101", "tf102"):
        pass_gates(client, number)
    reveal("tf101", differential_1="osteosarcoma", differential_2="heterotopic bone")
    reveal("tf102", differential_1="osteomyelitis")
    reveal("tf103", committed_answer="HO")  # no differential: not counted
    page = client.get(reverse("quizzes:progress")).content.decode()
    assert "Diagnosis in your top 3: <strong>1 of 2</strong> cases you revealed with a differential entered." in page


def test_the_progress_chart_has_labelled_axes_and_a_text_alternative(client, resident):
    quiz = make_quiz(questions=[make_sba()])
    first_day = timezone.now() - timedelta(days=20)
    for day, score in enumerate([0.0, 0.5, 1.0, 0.25, 0.75, 0.5, 1.0, 0.0, 0.5, 1.0]):
        started_at = first_day + timedelta(days=2 * day)
        attempt = Attempt.objects.create(user=resident, quiz=quiz, question_ids=[], score=score)
        Attempt.objects.filter(pk=attempt.pk).update(started_at=started_at, finished_at=started_at)
    client.force_login(resident)
    chart = client.get(reverse("quizzes:progress")).content.decode()
    chart = chart[chart.index("<svg") : chart.index("</svg>")]

    assert 'aria-labelledby="chart-title chart-desc"' in chart
    assert '<title id="chart-title">' in chart and '<desc id="chart-desc">' in chart
    assert re.findall(r'<text class="y-tick"[^>]*>([^<]+)</text>', chart) == ["0 %", "50 %", "100 %"]
    dates = re.findall(r'<text class="x-tick"[^>]*>([^<]+)</text>', chart)
    assert 2 <= len(dates) <= 6
    assert dates[0] == f"{first_day.day} {first_day:%b}"
    last_day = first_day + timedelta(days=18)
    assert dates[-1] == f"{last_day.day} {last_day:%b}"
    assert ">Score</text>" in chart and "(date started)</text>" in chart
    # A score of 100 % sits on the top grid line, 0 % on the bottom one.
    grid = [float(y) for y in re.findall(r'<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="\1"/>', chart)[:3]]
    dots = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', chart)]
    assert dots[0] == grid[0] and dots[1] == grid[1] and dots[2] == grid[2]


def test_starting_a_quiz_one_may_not_see_is_not_found_and_names_nothing(client, resident, faculty):
    """The start answers as the quiz's page does: a 404 that names no title."""
    hidden = make_quiz(questions=[make_sba()], title="Secret draft on osteoid osteoma", is_published=False)
    restricted = make_quiz(questions=[make_sba()], title="Faculty-only grand rounds")
    restricted.groups.set(faculty.groups.all())
    client.force_login(resident)
    for quiz in (hidden, restricted):
        assert client.get(quiz.get_absolute_url()).status_code == 404
        response = client.post(reverse("quizzes:quiz-start", args=[quiz.slug]), follow=True)
        assert response.status_code == 404
        assert quiz.title not in response.content.decode()
    assert not Attempt.objects.filter(user=resident).exists()


def test_a_missed_case_comes_back_for_review_as_an_unknown(client, resident):
    case = Case.objects.get(number="tf103")
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "first guess"})
    client.post(reverse("cases:case-assess", args=[case.number]), {"self_assessment": "missed"})
    Reveal.objects.filter(user=resident, case=case).update(revealed_at=timezone.now() - timedelta(days=2))
    assert case.diagnosis in client.get(case.get_absolute_url()).content.decode(), "revealed before the review"

    queue = client.get(reverse("quizzes:review-queue")).content.decode()
    opener = reverse("quizzes:review-case-open", args=[case.number])
    assert opener in queue and case.diagnosis not in queue
    assert client.post(opener)["Location"] == case.get_absolute_url()
    page = client.get(case.get_absolute_url()).content.decode()
    assert case.diagnosis not in page and "Show diagnosis" in page
    assert client.get(reverse("cases:case-viewer-data", args=[case.number])).json()["revealed"] is False
    assert client.get(reverse("discussions:thread", args=[case.number])).status_code == 404

    again = client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "second guess"})
    assert again.status_code == 302
    page = client.get(case.get_absolute_url()).content.decode()
    assert case.diagnosis in page and "first guess" in page, "the first committed answer is kept"
    client.post(reverse("quizzes:review-case", args=[case.number]), {"outcome": "correct"})
    assert client.post(opener).status_code == 404, "no longer due"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"after_reveal": True}, "a stage hidden until the reveal (annotated key images) stays hidden"),
        ({"label_confirmed": False}, "an unchecked label may name the answer: hidden as on the case page"),
    ],
)
def test_a_click_question_never_serves_a_stage_hidden_after_it_was_written(client, resident, change, why):
    case = make_case()
    series = make_series(case=case, sequence="STIR heterotopic ossification")  # as an import may name it
    make_image(series=series)
    question = make_click(case=case, series=series, key=f"click-hidden-{'-'.join(change)}")
    client.force_login(resident)
    attempt = started(client, make_quiz(questions=[question]))
    url = reverse("quizzes:question-images", args=[attempt.pk, question.pk])
    assert client.get(url).status_code == 200
    for field, value in change.items():
        setattr(series, field, value)
    series.save()
    response = client.get(url)
    assert response.status_code == 404, why
    assert b"heterotopic" not in response.content


def test_an_attempt_started_this_minute_is_listed_as_started_just_now(client, resident):
    quiz = make_quiz(questions=[make_sba()])
    client.force_login(resident)
    started(client, quiz)
    listing = client.get(reverse("quizzes:quiz-list")).content.decode()
    assert "started just now" in listing and "0\xa0minutes" not in listing


def test_the_results_summary_does_not_name_the_topic_of_a_click_questions_case(client, resident):
    """A click question leaves its case an unknown: its results count it under "No topic", as progress does."""
    from cases.tests.factories import make_topic

    secret, other = make_topic(name="Secret topic of the unknown"), make_topic(name="Topic asked openly")
    case = make_case(topic=secret)
    series = make_series(case=case)
    make_image(series=series)
    click = make_click(case=case, series=series, key="click-summary")
    quiz = make_quiz(questions=[click, make_sba(topic=other)], mode=Quiz.Mode.EXAM)
    client.force_login(resident)
    attempt = started(client, quiz)
    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    assert not Reveal.objects.filter(user=resident, case=case).exists()
    page = client.get(reverse("quizzes:attempt-results", args=[attempt.pk])).content.decode()
    assert "Topic asked openly" in page and "<td>No topic</td>" in page
    assert secret.name not in page and case.diagnosis not in page
