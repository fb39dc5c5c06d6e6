"""The author's inbox of drafts the DICOM receiver made: the author's own, with their shifted date, modalities and
counts, each opening its authoring page; for faculty and editors only; constant queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.drafts import PLACEHOLDERS
from cases.tests.factories import make_case, make_image, make_series
from ingest.models import IngestJob, ReceivedStudy, ReceiverRoute

INBOX = "admin:cases_case_received"


def received_draft(author, *, number: str, stages: int = 2, images: int = 2) -> ReceivedStudy:
    case = make_case(number=number, status="draft", authors=[author], **PLACEHOLDERS)
    case.study_day_zero = datetime.date(2014, 3, 9)
    case.save()
    for order in range(1, stages + 1):
        series = make_series(case=case, order=order)
        for image in range(1, images + 1):
            make_image(series=series, order=image)
    job = IngestJob.objects.create(case=case, created_by=author, status=IngestJob.Status.DONE)
    return ReceivedStudy.objects.create(case=case, job=job, objects_received=stages * images, modalities="CT, MR")


@pytest.mark.django_db
def test_the_inbox_lists_the_authors_received_drafts_with_date_modalities_and_counts(client, faculty, other_faculty):
    ReceiverRoute.objects.create(ae_title="TF_T", author=faculty)
    mine = received_draft(faculty, number="pacs-mine", stages=2, images=3)
    received_draft(other_faculty, number="pacs-theirs")
    client.force_login(faculty)
    page = client.get(reverse(INBOX)).content.decode()
    assert reverse("admin:cases_case_change", args=[mine.case.pk]) in page, "one click opens the authoring page"
    assert "pacs-mine" in page and "pacs-theirs" not in page
    assert "TF_T" in page and "CT, MR" in page
    row = page.split("pacs-mine", 1)[1]
    assert "<td>2</td>" in row and "<td>6</td>" in row, "stages and images counted"
    assert "March 9, 2014" in row or "9 March 2014" in row or "Mar. 9, 2014" in row, "the shifted study date"


@pytest.mark.django_db
def test_the_inbox_leaves_out_drafts_the_author_has_submitted(client, faculty):
    received = received_draft(faculty, number="pacs-sent")
    received.case.status = "review"
    received.case.save()
    client.force_login(faculty)
    assert "pacs-sent" not in client.get(reverse(INBOX)).content.decode()


@pytest.mark.django_db
def test_residents_may_not_open_the_inbox(client, resident):
    client.force_login(resident)
    assert client.get(reverse(INBOX)).status_code == 302  # to the authoring screen's login


@pytest.mark.django_db
def test_the_inbox_costs_the_same_queries_for_one_draft_or_many(client, faculty):
    received_draft(faculty, number="pacs-1")
    client.force_login(faculty)
    client.get(reverse(INBOX))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(INBOX))
    for number in range(2, 8):
        received_draft(faculty, number=f"pacs-{number}", stages=3)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse(INBOX))
    assert page.content.decode().count("pacs-") >= 7
    assert len(many) == len(few)


@pytest.mark.django_db
def test_faculty_land_on_an_index_that_links_the_inbox(client, faculty):
    client.force_login(faculty)
    assert reverse(INBOX) in client.get(reverse("admin:index")).content.decode()
