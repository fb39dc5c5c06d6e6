"""Keyset pages of the case lists, capped counts kept until the cases change, and a search's bounded pages."""

from datetime import timedelta
from unittest.mock import ANY

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import listing
from cases.models import Case, Region, Reveal
from cases.tests.factories import make_case, make_topic, make_user


@pytest.fixture
def seven(db) -> list[Case]:
    """Seven published cases, newest first; two share their publication time to the microsecond."""
    now = timezone.now()
    cases = [make_case() for _ in range(7)]
    for age, case in enumerate(cases):
        case.published_at = now - timedelta(minutes=age if age != 4 else 3)
        case.save(update_fields=["published_at"])
    return sorted(cases, key=lambda case: (case.published_at, case.pk), reverse=True)


def page_at(cases: list[Case], position: str, size: int = 3) -> listing.CasePage:
    among = Case.objects.filter(pk__in=[case.pk for case in cases])
    return listing.browse_page(
        among, reveals=Reveal.objects.none(), position=QueryDict(position), size=size, count=True
    )


def test_next_pages_walk_the_list_once_and_previous_pages_walk_it_back(seven):
    pages, position = [], ""
    while True:
        page = page_at(seven, position)
        pages.append(page)
        if page.next is None:
            break
        position = page.next
    assert [case.pk for page in pages for case in page.cases] == [case.pk for case in seven]
    assert [len(page.cases) for page in pages] == [3, 3, 1]
    assert pages[0].previous is None
    back = page_at(seven, pages[-1].previous)
    assert [case.pk for case in back.cases] == [case.pk for case in pages[1].cases]
    assert [case.pk for case in page_at(seven, back.previous).cases] == [case.pk for case in pages[0].cases]
    assert page_at(seven, back.previous).previous is None


def test_a_cursor_that_is_not_one_shows_the_first_page(seven):
    beyond_year_9999 = "9" * 18 + "-1"  # digits the pattern takes, a time Python's datetime cannot hold
    for position in ("after=x", "after=1-", "before=-3-4", "after=" + "9" * 40, "after=" + beyond_year_9999):
        assert [case.pk for case in page_at(seven, position).cases] == [case.pk for case in seven[:3]]


def test_counts_stop_at_the_cap(seven, monkeypatch):
    assert page_at(seven, "").count_text == "7 cases"
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    page = page_at(seven, "")
    assert page.count == 6 and page.count_text == "more than 5 cases"
    assert listing.count_text(1) == "1 case"


def test_a_search_shows_a_bounded_number_of_pages(seven, monkeypatch):
    monkeypatch.setattr(listing, "SEARCH_PAGES", 2)
    among = Case.objects.filter(pk__in=[case.pk for case in seven])
    search = {"reveals": Reveal.objects.none(), "text": "pain", "size": 3}
    second = listing.case_list_page(among, position=QueryDict("page=2"), **search)
    assert second.next is None and second.last_search_page and second.previous == "page=1"
    assert len(listing.case_list_page(among, position=QueryDict("page=9"), **search).cases) == 3, "the last"


def test_a_topic_page_shows_its_cases_a_page_at_a_time(client, resident, settings):
    settings.TEACHINGFILE_CASES_PER_PAGE = 2
    topic = make_topic()
    cases = [make_case(topic=topic) for _ in range(3)]
    client.force_login(resident)
    first = client.get(topic.get_absolute_url())
    shown = [case for case in cases if case.get_absolute_url() in first.content.decode()]
    assert len(shown) == 2
    second = client.get(topic.get_absolute_url() + "?" + first.context["page"].next).content.decode()
    assert [case.get_absolute_url() in second for case in cases] == [case not in shown for case in cases]


def test_the_list_links_to_the_next_page_keeping_its_filters(client, resident, settings):
    settings.TEACHINGFILE_CASES_PER_PAGE = 2
    for _ in range(3):
        make_case(region="chest")
    client.force_login(resident)
    body = client.get(reverse("cases:case-list"), {"region": "chest", "page": "4"}).content.decode()
    assert 'href="?region=chest&amp;after=' in body and "page=4" not in body


def test_a_search_with_more_matches_than_the_cap_shows_the_newest_first(seven, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    among = Case.objects.filter(pk__in=[case.pk for case in seven])
    page = listing.case_list_page(among, reveals=Reveal.objects.none(), text="pain", position=QueryDict(), size=3)
    assert page.newest_first and page.count_text == "more than 5 cases, newest first"
    assert [case.pk for case in page.cases] == [case.pk for case in seven[:3]]


def list_count(client, query: str) -> tuple[str, list[str]]:
    """The count a list page shows ("3 cases"), and the counting queries its request ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:case-list") + query)
    assert response.status_code == 200
    counted = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT COUNT(*) FROM (")]
    return response.context["page"].count_text, counted


def test_a_list_is_counted_once_until_its_cases_change(client, db):
    for _ in range(3):
        make_case(region=Region.CHEST)
    make_case(region=Region.SPINE)
    first, second = make_user("reader-one", "resident"), make_user("reader-two", "resident")
    client.force_login(first)
    assert list_count(client, "?region=chest") == ("3 cases", [ANY])
    client.force_login(second)
    assert list_count(client, "?region=chest") == ("3 cases", []), "the same list, counted for another reader"
    assert list_count(client, "?region=spine") == ("1 case", [ANY]), "another list"

    make_case(region=Region.CHEST)
    client.force_login(first)
    assert list_count(client, "?region=chest") == ("4 cases", [ANY]), "a new case is counted"
    Case.objects.filter(region=Region.CHEST).first().save()  # any change to the cases: their counts again
    client.force_login(second)
    assert list_count(client, "?region=chest")[1] == [ANY]


@pytest.mark.parametrize("first_reader", ["resident", "faculty"])
def test_a_count_kept_for_one_reader_never_shows_another_their_private_cases(client, resident, faculty, first_reader):
    make_case(region=Region.CHEST)
    make_case(region=Region.CHEST, access=Case.Access.PRIVATE, authors=[faculty])
    readers = {"resident": (resident, "1 case"), "faculty": (faculty, "2 cases")}
    order = [first_reader, *(name for name in readers if name != first_reader)]
    for name in order:
        reader, shown = readers[name]
        client.force_login(reader)
        assert list_count(client, "?region=chest")[0] == shown, name


def test_a_search_counts_the_case_its_reader_just_revealed_by_its_answer(client, resident):
    case = make_case(diagnosis="Myositis ossificans")
    client.force_login(resident)
    assert list_count(client, "?q=ossificans")[0] == "0 cases"
    Reveal.objects.create(case=case, user=resident, committed_answer="a guess")
    assert list_count(client, "?q=ossificans")[0] == "1 case"
