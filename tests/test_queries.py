"""Invariant 4: queries per page do not grow with the data."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Annotation, DifferentialEntry, Gate
from cases.tests.factories import make_case, make_gate, make_image, make_series, make_topic, make_user
from quizzes import services as quiz_services
from quizzes.tests.factories import make_quiz, make_sba


def count_queries(client, url: str) -> tuple[int, int]:
    """Count the queries of a page with nothing cached, then again with what it cached (cases/page_cache.py)."""
    cache.clear()
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    return counts[0], counts[1]


def make_cases_with_images(count: int) -> None:
    for _ in range(count):
        case = make_case()
        make_image(series=make_series(case=case))


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["cases:case-list", "cases:home"])
def test_case_list_costs_the_same_for_5_and_50_cases(client, resident, url_name):
    client.force_login(resident)
    make_cases_with_images(5)
    with_few = count_queries(client, reverse(url_name))
    make_cases_with_images(45)
    assert count_queries(client, reverse(url_name)) == with_few


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?q=pain", "?q=pain+-knee&region=pelvis", "?modality=XR&difficulty=3"])
def test_a_search_or_filter_costs_the_same_for_5_and_50_matches(client, resident, query):
    client.force_login(resident)
    make_cases_with_images(5)
    with_few = count_queries(client, reverse("cases:case-list") + query)
    make_cases_with_images(45)
    assert count_queries(client, reverse("cases:case-list") + query) == with_few


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="misspellings are corrected on PostgreSQL (pg_trgm)")
def test_a_misspelt_search_costs_two_queries_more_than_a_search_whatever_the_matches(client, resident):
    """The search as typed finds nothing (its revealed cases and its count), then the corrected one runs."""
    client.force_login(resident)
    make_cases_with_images(5)
    searched = count_queries(client, reverse("cases:case-list") + "?q=pain")
    misspelt = count_queries(client, reverse("cases:case-list") + "?q=patiant")
    assert "spelt alike" in client.get(reverse("cases:case-list") + "?q=patiant").content.decode()
    assert misspelt[0] == searched[0] + 2, misspelt
    assert misspelt[1] == searched[1], "kept whole for this reader, as any search page"
    make_cases_with_images(45)
    assert count_queries(client, reverse("cases:case-list") + "?q=patiant") == misspelt


@pytest.mark.django_db
def test_a_deep_page_costs_what_the_first_costs(client, resident, settings):
    settings.TEACHINGFILE_CASES_PER_PAGE = 2
    client.force_login(resident)
    make_cases_with_images(9)
    first = client.get(reverse("cases:case-list"))
    deep = reverse("cases:case-list") + "?" + first.context["page"].next
    for _ in range(3):
        deep = reverse("cases:case-list") + "?" + client.get(deep).context["page"].next
    assert count_queries(client, deep) == count_queries(client, reverse("cases:case-list"))


@pytest.mark.django_db
def test_a_topic_page_costs_the_same_for_3_and_30_cases(client, resident):
    client.force_login(resident)
    topic = make_topic()
    for _ in range(3):
        make_image(series=make_series(case=make_case(topic=topic)))
    with_few = count_queries(client, topic.get_absolute_url())
    for _ in range(27):
        make_image(series=make_series(case=make_case(topic=topic)))
    assert count_queries(client, topic.get_absolute_url()) == with_few


@pytest.mark.django_db
def test_case_page_costs_the_same_for_2_and_40_images(client, resident):
    client.force_login(resident)
    small, large = make_case(), make_case()
    for case, images in ((small, 2), (large, 40)):
        first = make_series(case=case)
        second = make_series(case=case, after_reveal=True)
        for order in range(images):
            make_image(series=first if order % 2 else second, order=order)
    assert count_queries(client, large.get_absolute_url()) == count_queries(client, small.get_absolute_url())
    for case in (small, large):
        client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"})
    assert count_queries(client, large.get_absolute_url()) == count_queries(client, small.get_absolute_url())


@pytest.mark.django_db
def test_a_gated_case_page_costs_the_same_for_1_and_6_gates_answered_or_not(client, resident):
    """The reader's gate answers are one query, the gates come with the stages: a page with more gates, more
    answered, costs the same, before and after the reveal."""
    client.force_login(resident)
    small, large = make_case(), make_case()
    for case, stages in ((small, 2), (large, 7)):
        for order in range(stages):
            series = make_series(case=case, order=order)
            make_image(series=series)
            if order < stages - 1:
                make_gate(series=series, reasoning=f"Step {order}", kind="impression")
    assert count_queries(client, large.get_absolute_url()) == count_queries(client, small.get_absolute_url())
    for case in (small, large):
        for gate in Gate.objects.filter(series__case=case).order_by("series__order"):
            client.post(reverse("cases:gate-answer", args=[case.number, gate.pk]), {"text": "so far"})
    assert count_queries(client, large.get_absolute_url()) == count_queries(client, small.get_absolute_url())
    url = lambda case: reverse("cases:case-viewer-data", args=[case.number])  # noqa: E731
    assert count_queries(client, url(large)) == count_queries(client, url(small))
    for case in (small, large):
        assert (
            client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"}).status_code == 302
        )
    assert count_queries(client, large.get_absolute_url()) == count_queries(client, small.get_absolute_url())


@pytest.mark.django_db
def test_a_revealed_case_marks_a_differential_of_1_or_3_against_2_or_12_entries_at_the_same_cost(client, resident):
    client.force_login(resident)
    small, large = make_case(), make_case()
    for case, entries in ((small, 2), (large, 12)):
        for order in range(entries):
            DifferentialEntry.objects.create(
                case=case, order=order, diagnosis=f"Entity {order}", reasoning="-", topic=make_topic()
            )
    client.post(reverse("cases:case-reveal", args=[small.number]), {"differential_1": "entity 1"})
    client.post(
        reverse("cases:case-reveal", args=[large.number]),
        {"differential_1": "entity 1", "differential_2": "entity 11", "differential_3": "entity 12"},
    )
    assert count_queries(client, large.get_absolute_url()) == count_queries(client, small.get_absolute_url())
    progress = count_queries(client, reverse("quizzes:progress"))
    for case in [make_case() for _ in range(5)]:
        client.post(reverse("cases:case-reveal", args=[case.number]), {"differential_1": "gout"})
    assert count_queries(client, reverse("quizzes:progress")) == progress


@pytest.mark.django_db
def test_done_list_costs_the_same_for_2_and_20_reveals(client, resident):
    client.force_login(resident)
    cases = [make_case() for _ in range(20)]
    for case in cases[:2]:
        client.post(reverse("cases:case-reveal", args=[case.number]))
    with_few = count_queries(client, reverse("cases:case-done-list"))
    for case in cases[2:]:
        client.post(reverse("cases:case-reveal", args=[case.number]))
    assert count_queries(client, reverse("cases:case-done-list")) == with_few


@pytest.mark.django_db
def test_viewer_data_costs_the_same_for_2_and_40_annotated_images(client, resident):
    client.force_login(resident)
    small, large = make_case(), make_case()
    for case, images in ((small, 2), (large, 40)):
        shown, hidden = make_series(case=case), make_series(case=case, after_reveal=True)
        for order in range(images):
            image = make_image(series=shown if order % 2 else hidden, order=order)
            for after_reveal in (False, True):
                Annotation.objects.create(
                    image=image, kind="arrow", x1=0, y1=0, x2=0.5, y2=0.5, after_reveal=after_reveal
                )
    url = lambda case: reverse("cases:case-viewer-data", args=[case.number])  # noqa: E731
    assert count_queries(client, url(large)) == count_queries(client, url(small))
    for case in (small, large):
        client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"})
    assert count_queries(client, url(large)) == count_queries(client, url(small))


def quiz_with_answers(user, count: int, *, finish: bool = True):
    questions = [make_sba(correct=0) for _ in range(count)]
    quiz = make_quiz(questions=questions, mode="exam")
    attempt = quiz_services.attempt_start(quiz=quiz, user=user)
    for question in questions:
        quiz_services.attempt_answer(attempt=attempt, question=question, answer=quiz_services.Answer(option_position=0))
    if finish:
        quiz_services.attempt_finish(attempt=attempt)
    return quiz, attempt


@pytest.mark.django_db
def test_quiz_pages_cost_the_same_for_3_and_30_questions(client, resident, faculty):
    client.force_login(resident)
    small_quiz, small = quiz_with_answers(resident, 3)
    large_quiz, large = quiz_with_answers(resident, 30)
    for name in ("quizzes:attempt-results",):
        urls = [reverse(name, args=[attempt.pk]) for attempt in (small, large)]
        assert count_queries(client, urls[1]) == count_queries(client, urls[0])
    open_small = quiz_services.attempt_start(quiz=make_quiz(questions=[make_sba() for _ in range(3)]), user=resident)
    open_large = quiz_services.attempt_start(quiz=make_quiz(questions=[make_sba() for _ in range(30)]), user=resident)
    assert count_queries(client, open_large.get_absolute_url()) == count_queries(client, open_small.get_absolute_url())
    for quiz in (small_quiz, large_quiz):
        quiz.authors.add(faculty)
    client.force_login(faculty)
    results = [reverse("admin:quizzes_quiz_results", args=[quiz.pk]) for quiz in (small_quiz, large_quiz)]
    assert count_queries(client, results[1]) == count_queries(client, results[0])


@pytest.mark.django_db
def test_progress_and_quiz_list_cost_the_same_for_1_and_10_attempts(client, resident):
    client.force_login(resident)
    quiz_with_answers(resident, 2)
    progress, listing = (
        count_queries(client, reverse("quizzes:progress")),
        count_queries(client, reverse("quizzes:quiz-list")),
    )
    for _ in range(9):
        quiz_with_answers(resident, 2)
    assert count_queries(client, reverse("quizzes:progress")) == progress
    assert count_queries(client, reverse("quizzes:quiz-list")) == listing


@pytest.mark.django_db
def test_discussion_costs_the_same_for_3_and_60_comments_by_as_many_people(client, resident):
    from discussions.models import Comment

    client.force_login(resident)
    few, many = make_case(), make_case()
    roles = ["resident", "faculty", "editor", None]
    people = iter(make_user(f"writer-{n}", roles[n % 4]) for n in range(63))
    for case, count in ((few, 3), (many, 60)):
        client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
        roots = [Comment.objects.create(case=case, author=next(people), body=f"Root {n}") for n in range(count // 3)]
        for root in roots:
            reply = Comment.objects.create(case=case, author=next(people), parent=root, thread=root, body="Reply")
            Comment.objects.create(case=case, author=next(people), parent=reply, thread=root, body="Reply to reply")
    urls = [reverse("discussions:thread", args=[case.number]) for case in (few, many)]
    assert count_queries(client, urls[1]) == count_queries(client, urls[0])


@pytest.mark.django_db
def test_a_collection_and_its_case_pages_cost_the_same_for_2_and_20_cases(client, resident, faculty):
    from collections_app.tests.factories import make_collection

    client.force_login(resident)
    counts = []
    for size in (2, 20):
        cases = [make_case() for _ in range(size)]
        for case in cases:
            make_image(series=make_series(case=case))
        collection = make_collection(owner=faculty, cases=cases)
        for case in cases[: size // 2]:  # half revealed, half of those missed: every state on the page
            client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"})
            client.post(reverse("cases:case-assess", args=[case.number]), {"self_assessment": "missed"})
        case_page = f"{cases[-1].get_absolute_url()}?collection={collection.slug}"  # an unknown
        counts.append((count_queries(client, collection.get_absolute_url()), count_queries(client, case_page)))
    assert counts[0] == counts[1]
