"""A faculty author imports a zip in the authoring screen and reads, by name, which files were not imported."""

import io
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect
from pydicom import examples

from cases.tests.factories import make_case
from ingest.models import IngestJob

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def dicom_bytes(dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def test_the_report_names_each_file_not_imported_from_the_list_the_answer_page_keeps(browser, demo_site, artifacts):
    case = make_case(authors=[get_user_model().objects.get(username="faculty")], status="draft")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as export:
        export.writestr("STUDY/IM0001", dicom_bytes(examples.ct))
        export.writestr("STUDY/DOE^JOHN notes.txt", b"call back")
        export.writestr("STUDY/COPY", dicom_bytes(examples.ct))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_dicom", args=[case.pk]))
    page.set_input_files(
        "input[name=files]", files=[{"name": "export.zip", "mimeType": "application/zip", "buffer": archive.getvalue()}]
    )
    page.get_by_role("button", name="Import").click()

    # The report in words first: what became a stage, what was not an image; each said once.
    expect(page.locator(".import-summary li")).to_have_text(
        [
            re.compile(r"^1 CT image became stage \d+ \(Axial\)\.$"),
            "1 file was not an image (a file that is not DICOM).",
            "1 file repeated another in the upload and was skipped.",
        ],
        timeout=30_000,
    )
    expect(page.locator(".import-status")).to_contain_text("Import done")
    # File by file, named from the list the answer page keeps, is folded away until asked for.
    report = page.locator(".import-files li")
    expect(report.first).to_be_hidden()
    page.get_by_text("File by file").click()
    expect(report).to_have_text(
        [
            "File 2 (STUDY/DOE^JOHN notes.txt) — refused: not a DICOM file",
            "File 3 (STUDY/COPY) — duplicate: the same object as file 1 (STUDY/IM0001)",
        ]
    )
    expect(page.locator(".import-counts")).to_have_text(
        "Files: 1 imported, 0 already imported, 1 duplicate, 1 refused, 0 not rendered."
    )
    page.screenshot(path=artifacts / "dicom-import-report.png", full_page=True)
    job = IngestJob.objects.get(case=case)
    assert "DOE" not in str(job.report), "the name was shown, not stored"

    page.reload()
    expect(page.locator(".import-files li")).to_have_text(
        ["File 2 — refused: not a DICOM file", "File 3 — duplicate: the same object as file 1"]
    )
