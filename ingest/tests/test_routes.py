"""Choosing the draft a route's next studies are added to: from the draft's page or the inbox, by the route's
author or an editor, only a draft the route's author may edit, with CSRF; and back to a new draft per study."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.tests.factories import make_case
from ingest.models import ReceivedStudy, ReceiverRoute
from ingest.routes import route_destination_open

from .test_inbox import received_draft

CHOOSE = "admin:cases_case_receiver_destination"


@pytest.fixture
def route(faculty) -> ReceiverRoute:
    return ReceiverRoute.objects.create(ae_title="TF_T", author=faculty)


@pytest.mark.django_db
def test_the_author_sends_the_next_studies_to_a_draft_from_its_page_and_back_to_new_drafts(client, faculty, route):
    draft = make_case(status="draft", authors=[faculty])
    client.force_login(faculty)
    page = client.get(reverse("admin:cases_case_change", args=[draft.pk])).content.decode()
    assert "Send PACS studies here" in page and reverse(CHOOSE, args=[route.pk]) in page

    page_url = reverse("admin:cases_case_change", args=[draft.pk])
    answer = client.post(reverse(CHOOSE, args=[route.pk]), {"case": draft.pk, "next": page_url})
    assert answer.status_code == 302 and answer["Location"] == page_url
    route.refresh_from_db()
    assert route.destination == draft and route.adds_to_draft
    assert route_destination_open(route) == (draft, False)
    assert "Back to a new draft per study" in client.get(page_url).content.decode()
    assert (
        f'added to draft <a href="{page_url}">{draft.number}</a>'
        in client.get(reverse("admin:cases_case_received")).content.decode()
    )

    client.post(reverse(CHOOSE, args=[route.pk]), {})
    route.refresh_from_db()
    assert route.destination is None and not route.adds_to_draft


@pytest.mark.django_db
def test_a_published_case_offers_no_choice(client, faculty, route):
    published = make_case(authors=[faculty])
    client.force_login(faculty)
    assert (
        "Send PACS studies here"
        not in client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    )
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": published.pk}).status_code == 403
    route.refresh_from_db()
    assert route.destination is None


@pytest.mark.django_db
def test_a_forged_post_choosing_another_authors_draft_or_route_is_refused(client, faculty, other_faculty, route):
    theirs = make_case(status="draft", authors=[other_faculty])
    mine = make_case(status="draft", authors=[faculty])
    client.force_login(faculty)
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": theirs.pk}).status_code == 403
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": 987654}).status_code == 403
    client.force_login(other_faculty)
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": mine.pk}).status_code == 403, "not their route"
    route.refresh_from_db()
    assert route.destination is None and not route.adds_to_draft


@pytest.mark.django_db
def test_an_editor_may_send_an_authors_route_to_that_authors_draft_only(client, editor, faculty, other_faculty, route):
    mine = make_case(status="draft", authors=[faculty])
    theirs = make_case(status="draft", authors=[other_faculty])
    client.force_login(editor)
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": theirs.pk}).status_code == 403
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": mine.pk}).status_code == 302
    route.refresh_from_db()
    assert route.destination == mine


@pytest.mark.django_db
def test_the_choice_needs_the_csrf_token(faculty, route):
    draft = make_case(status="draft", authors=[faculty])
    client = Client(enforce_csrf_checks=True)
    client.force_login(faculty)
    assert client.post(reverse(CHOOSE, args=[route.pk]), {"case": draft.pk}).status_code == 403
    route.refresh_from_db()
    assert route.destination is None


@pytest.mark.django_db
def test_a_chosen_draft_submitted_or_deleted_since_is_gone(faculty, route):
    draft = make_case(status="draft", authors=[faculty])
    route.destination, route.adds_to_draft = draft, True
    route.save()
    draft.status = "review"
    draft.save()
    assert route_destination_open(route) == (None, True)
    draft.delete()
    route.refresh_from_db()
    assert route.destination is None and route_destination_open(route) == (None, True)


@pytest.mark.django_db
def test_the_inbox_says_where_each_study_went_and_offers_each_draft_as_the_destination(client, faculty, route):
    added = received_draft(faculty, number="pacs-added")
    ReceivedStudy.objects.filter(pk=added.pk).update(into=ReceivedStudy.Into.CHOSEN)
    fallback = received_draft(faculty, number="pacs-fallback")
    ReceivedStudy.objects.filter(pk=fallback.pk).update(into=ReceivedStudy.Into.FALLBACK)
    route.destination, route.adds_to_draft = added.case, True
    route.save()
    client.force_login(faculty)
    page = client.get(reverse("admin:cases_case_received")).content.decode()
    assert "Added to the draft you chose" in page
    assert "A new draft: the draft you chose was no longer a draft of yours" in page
    assert page.count("Send TF_T here") == 1 and "TF_T goes here" in page, "offered for the other draft only"
    assert "Back to a new draft per study" in page


@pytest.mark.django_db
def test_a_drafts_page_costs_the_same_with_one_route_or_three(client, faculty, route):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    draft = make_case(status="draft", authors=[faculty])
    client.force_login(faculty)
    page_url = reverse("admin:cases_case_change", args=[draft.pk])
    client.get(page_url)  # what the first page alone loads, cached
    counts = []
    for ae_titles in ((), ("TF_T2", "TF_T3")):
        for ae_title in ae_titles:
            ReceiverRoute.objects.create(ae_title=ae_title, author=faculty)
        cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(page_url).content.decode()
        counts.append(len(queries))
    assert page.count("Send PACS studies here") == 3
    assert counts[0] == counts[1]
