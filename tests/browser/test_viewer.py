"""The stack viewer: scrolling moves through slices, and windows are applied to the real CT values."""

import pytest
from playwright.sync_api import expect

from cases.models import Case

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANVAS_SUM = """c => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0; for (let i = 0; i < data.length; i += 4) sum += data[i];
  return sum;
}"""


def test_ct_stack_scrolls_and_windows_from_real_values(browser, demo_site, artifacts):
    case = Case.objects.get(number="tf101")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", case.get_absolute_url())
    stage = page.locator(".stage", has_text="CT")
    slices = stage.locator("[data-stack-member]").count()
    stage.locator(".stage-images img").first.click()

    canvas = page.locator(".lightbox canvas")
    expect(canvas).to_be_visible()
    counter = page.locator(".viewer-counter")
    expect(counter).to_have_text(f"{slices // 2 + 1} / {slices}")
    expect(canvas).to_have_attribute("data-slice", str(slices // 2 + 1))
    first = canvas.evaluate(CANVAS_SUM)

    canvas.hover()
    page.mouse.wheel(0, 120)
    expect(counter).to_have_text(f"{slices // 2 + 2} / {slices}")
    expect(canvas).to_have_attribute("data-slice", str(slices // 2 + 2))
    assert canvas.evaluate(CANVAS_SUM) != first, "the next slice is drawn"

    soft = canvas.evaluate(CANVAS_SUM)
    page.locator(".viewer-presets button", has_text="Bone").click()
    expect(page.locator(".viewer-window")).to_have_text("W 2000 L 500")
    page.wait_for_function(f"c => ({CANVAS_SUM})(c) !== {soft}", arg=canvas.element_handle())
    page.screenshot(path=artifacts / "viewer-ct-bone.png")

    page.keyboard.press("Home")
    expect(counter).to_have_text(f"1 / {slices}")
    page.close()
