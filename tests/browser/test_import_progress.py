"""The import's progress page as its author watches it: the bar moves as the job goes on, and the report
takes its place when the job ends, without a reload (static/js/ingest.js)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.tests.factories import make_case
from ingest.models import IngestJob

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_the_bar_follows_the_job_and_the_report_replaces_it(browser, demo_site):
    faculty = get_user_model().objects.get(username="faculty")
    case = make_case(authors=[faculty], status="draft")
    job = IngestJob.objects.create(
        case=case, created_by=faculty, status=IngestJob.Status.RUNNING, total=4, processed=1, heartbeat=timezone.now()
    )
    page = browser.new_page()
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token]))
    expect(page.locator(".import-count")).to_have_text("1 of 4")
    expect(page.locator("progress")).to_have_js_property("value", 25)
    page.evaluate("window.sameDocument = true")

    IngestJob.objects.filter(pk=job.pk).update(phase=IngestJob.Phase.RENDER, processed=3, heartbeat=timezone.now())
    expect(page.locator(".import-phase")).to_have_text("Rendering")
    expect(page.locator(".import-count")).to_have_text("3 of 4")
    expect(page.locator("progress")).to_have_js_property("value", 75)

    report = {
        "files": [
            [1, "imported", ""],
            [2, "refused", "not a DICOM file"],
            [3, "duplicate", "the same object as file 1"],
        ],
        "counts": {"imported": 1, "already imported": 0, "duplicate": 1, "refused": 1, "not rendered": 0},
    }
    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestJob.Status.DONE, processed=4, report=report, finished=timezone.now()
    )
    expect(page.locator(".import-status")).to_have_text(re.compile(r"^Import done \(.+\)\.$"))
    expect(page.locator(".import-files li")).to_have_text(
        ["File 2 — refused: not a DICOM file", "File 3 — duplicate: the same object as file 1"]
    )
    expect(page.locator("progress")).to_have_count(0)  # the report took the bar's place
    assert page.evaluate("window.sameDocument") is True, "the report came in place, not by a reload"
    assert errors == []
    page.close()
