"""A resident commits to a differential on tf101, reveals it, and reads each entry marked."""

import pytest
from playwright.sync_api import expect

from cases.models import Case

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_enters_a_differential_reveals_and_sees_each_entry_marked(browser, demo_site):
    case = Case.objects.get(number="tf101")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = script_errors(page)
    log_in(page, demo_site, "resident", case.get_absolute_url())

    first = page.get_by_label("Differential 1")
    first.focus()  # the boxes' suggestions load on the first focus
    expect(page.locator("#differential-names option[value='heterotopic bone']")).to_have_count(1)
    first.fill("chondrosarcoma")
    page.get_by_label("Differential 2").fill("heterotopic bone")
    page.get_by_label("Differential 3").fill("gout")
    page.get_by_label("Your diagnosis").fill("HO")
    page.get_by_role("button", name="Show diagnosis").click()

    marks = page.locator(".differential-marks li")
    expect(marks).to_have_count(3)
    expect(marks.nth(0)).to_have_text(
        "chondrosarcoma in the differential (Chondrosarcoma or another tumour-like lesion)"
    )
    expect(marks.nth(1)).to_have_text("heterotopic bone the diagnosis")
    expect(marks.nth(2)).to_have_text("gout not listed")
    expect(page.locator(".answer-true")).to_contain_text(case.diagnosis)
    assert errors == []
    page.close()
