"""The DICOM upload's answer names each file that was not imported beside its place in the final report."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case
from cases.tests.corpus import accounting

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_final_report_names_the_duplicates_from_the_uploads_own_list(browser, demo_site, tmp_path):
    case = Case.objects.get(number="tf102")
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)  # authors import into their drafts
    paths = accounting.make_duplicates(tmp_path)
    page = browser.new_page()
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_dicom", args=[case.pk]))
    page.get_by_label("DICOM files or zip archives").set_input_files([str(path) for path in paths])
    page.get_by_role("button", name="Import").click()

    expect(page.locator(".import-counts")).to_have_text(
        "Files: 1 imported, 0 already imported, 2 duplicate, 0 refused, 0 not rendered."
    )
    report = page.locator("[data-file-index]")
    expect(report).to_have_text(
        [
            "file 2 (b_copy.dcm) — duplicate: the same object as file 1",
            "file 3 (IMG0001) — duplicate: the same object as file 1",
        ]
    )
    page.reload()
    expect(report.first).to_have_text("file 2 — duplicate: the same object as file 1")  # names are not kept
