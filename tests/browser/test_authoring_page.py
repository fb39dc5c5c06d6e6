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


def test_the_stages_are_reordered_with_the_keyboard_and_the_order_is_saved(browser, demo_site):
    case = _case_with_most_stages()
    first, second = list(case.series.order_by("order", "pk"))[:2]
    page = browser.new_page(viewport=LAPTOP)
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_change", args=[case.pk]))
    card = page.locator(f"#stage-card-{first.pk}")
    move_down = card.get_by_role("button", name="Move stage down")
    move_down.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".stage-card").nth(1)).to_have_id(f"stage-card-{first.pk}")
    expect(move_down).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="is now stage 2")).to_contain_text("Save to keep the order.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".stage-card").first).to_have_id(f"stage-card-{second.pk}")
    orders = dict(case.series.values_list("pk", "order"))
    assert orders[second.pk] < orders[first.pk]
    assert errors == []
