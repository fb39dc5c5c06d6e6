"""What a faculty author sees while a DICOM upload is sent: the bytes going, then the import's result."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case
from imaging.tests.corpus import junk

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

FILES = 12
UPLOAD_BYTES_PER_SECOND = 1_000_000  # about five seconds for the 4.7 MB sent


@pytest.fixture
def series_files(tmp_path):
    """Twelve 256×256 three-frame images of one series (about 390 kB each)."""
    study, series = junk.image_dataset().StudyInstanceUID, junk.image_dataset().SeriesInstanceUID
    paths = []
    for number in range(1, FILES + 1):
        ds = junk.image_dataset(rows=256, columns=256, frames=3)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.InstanceNumber = study, series, number
        path = tmp_path / f"image{number:02d}.dcm"
        path.write_bytes(junk.image_bytes(ds))
        paths.append(path)
    return paths


def test_author_sees_the_transfer_move_and_then_the_import(browser, demo_site, series_files):
    case = Case.objects.get(number="tf102")
    case.status = Case.Status.DRAFT
    case.save()
    upload_url = reverse("admin:cases_case_dicom", args=[case.pk])
    page = browser.new_page()
    log_in(page, demo_site, "faculty", upload_url)
    page.get_by_label("DICOM files or zip archives").set_input_files(series_files)
    # Slow the upload down so that the bar is seen between empty and full.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": UPLOAD_BYTES_PER_SECOND},
    )

    page.get_by_role("button", name="Import").click()

    transfer = page.locator(".upload-transfer")
    expect(transfer).to_be_visible()
    page.wait_for_function(
        """() => {
          const bar = document.querySelector(".upload-transfer progress");
          return bar && bar.hasAttribute("value") && bar.value > bar.max * 0.1 && bar.value < bar.max * 0.9;
        }"""
    )
    assert re.fullmatch(r"Sending \d\.\d MB of 4\.\d MB", transfer.locator("label").inner_text())
    expect(page.get_by_role("button", name="Import")).to_be_disabled()

    # Then the server's answer replaces the page: the import's progress, and its result.
    result = page.locator(".dicom-import")
    expect(result.locator(".import-status")).to_contain_text("Import done", timeout=60_000)
    expect(page.locator(".upload-report")).to_contain_text(f"{FILES} files received")
    expect(result.locator(".import-summary")).to_contain_text(f"images (from {FILES} files) became stage")
    assert case.series.order_by("-order").first().images.count() == FILES * 3  # the new stage, one image a frame


def test_without_javascript_the_form_posts_and_answers_with_the_import(browser, demo_site, series_files):
    case = Case.objects.get(number="tf102")
    case.status = Case.Status.DRAFT
    case.save()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_dicom", args=[case.pk]))
    page.get_by_label("DICOM files or zip archives").set_input_files(series_files[:2])

    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()

    expect(page.locator(".upload-report")).to_contain_text("2 files received")
    # Nothing polls without JavaScript: the job's own address shows where it stands.
    page.goto(demo_site + page.locator(".dicom-import").get_attribute("data-status-url"))
    expect(page.locator(".dicom-import .import-status")).to_contain_text("Import done")
    context.close()
