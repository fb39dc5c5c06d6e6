"""The authoring page of a case fits a 1366 px screen: stages as cards, images as compact rows."""

import pytest
from django.db.models import Count
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
SCROLL_WIDTH = "document.scrollingElement.scrollWidth"
# The deepest elements that reach past the screen's right edge: what to fix when the page scrolls sideways.
OVERFLOWING = """(width) => Array.from(document.querySelectorAll("body *"))
  .filter((element) => element.getBoundingClientRect().right > width && !element.querySelector("*"))
  .slice(0, 8)
  .map((element) => `${element.tagName}.${element.className}#${element.id} ${element.getBoundingClientRect().right}`)"""


def assert_fits(page) -> None:
    assert page.evaluate(SCROLL_WIDTH) <= LAPTOP["width"], page.evaluate(OVERFLOWING, LAPTOP["width"])


def _case_with_most_stages() -> Case:
    case = Case.objects.annotate(stages=Count("series")).filter(authors__username="faculty").order_by("-stages").first()
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)
    return case


def test_the_case_page_and_a_stage_page_fit_a_laptop_screen(browser, demo_site, artifacts):
    case = _case_with_most_stages()
    page = browser.new_page(viewport=LAPTOP)
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_change", args=[case.pk]))
    expect(page.locator(".stage-card")).to_have_count(case.series.count())
    page.screenshot(path=artifacts / "authoring-case.png", full_page=True)
    assert_fits(page)

    stage = case.series.annotate(images_count=Count("images")).order_by("-images_count").first()
    page.goto(demo_site + reverse("admin:cases_series_change", args=[stage.pk]))
    page.screenshot(path=artifacts / "authoring-stage.png", full_page=True)
    assert_fits(page)
    assert errors == []
