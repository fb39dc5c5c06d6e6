"""What an editor sees exporting a case as a package and importing it back as a new draft."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_a_case_and_import_it_back_as_a_draft(browser, demo_site, tmp_path):
    case = Case.objects.get(number="tf103")
    page = browser.new_page(accept_downloads=True)
    errors = script_errors(page)
    log_in(page, demo_site, "editor", reverse("admin:cases_case_change", args=[case.pk]))

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export package").click()
    download = download_info.value
    assert download.suggested_filename == "tf103-package.zip"
    package = tmp_path / download.suggested_filename
    download.save_as(package)

    page.goto(demo_site + reverse("admin:cases_case_changelist"))
    page.get_by_role("link", name="Import package").click()
    expect(page.get_by_role("heading", name="Import a package")).to_be_visible()
    page.get_by_label("Package (.zip)").set_input_files(package)
    with page.expect_navigation():
        page.get_by_role("button", name="Import package").click()

    imported = Case.objects.exclude(pk=case.pk).get(title=case.title, status=Case.Status.DRAFT)
    expect(page.locator(".messagelist .success")).to_have_text(
        f"Imported the package as draft {imported.number}. Nothing is published."
    )
    assert re.search(rf"/cases/case/{imported.pk}/change/", page.url)
    expect(page.locator("#id_title")).to_have_value(case.title)
    expect(page.locator("#id_diagnosis")).to_have_value(case.diagnosis)
    expect(page.locator("#id_status")).to_have_value("draft")
    stages = page.locator("input[name^='series-'][name$='-caption']:not([name*='__prefix__'])")
    expect(stages).to_have_count(case.series.count())
    expect(stages.nth(1)).to_have_value(case.series.last().caption)
    assert errors == []


def test_a_refused_package_is_explained_on_the_page(browser, demo_site, tmp_path):
    bad = tmp_path / "not-a-package.zip"
    bad.write_bytes(b"this is not a zip")
    count = Case.objects.count()
    page = browser.new_page()
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_package_import"))
    page.get_by_label("Package (.zip)").set_input_files(bad)
    with page.expect_navigation():
        page.get_by_role("button", name="Import package").click()
    expect(page.locator("#package-refusal")).to_have_text(
        "The package was not imported: The file is not a zip archive (or it is damaged)."
    )
    assert Case.objects.count() == count
