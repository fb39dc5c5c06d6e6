"""What a resident sees: the bone-scan unknown, then the reveal beside their answer."""

import pytest
from playwright.sync_api import expect

from cases.models import Case

from .conftest import answer_gates, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_reveals_the_bone_scan_case(browser, demo_site, artifacts):
    case = Case.objects.get(number="tf102")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", case.get_absolute_url())

    expect(page.get_by_role("heading", level=1)).to_have_text(case.title)
    stages = page.locator(".stage-header h3")
    expect(stages).to_have_count(2)  # flow and blood pool: the first gate holds the rest back
    expect(page.locator("form[data-gate] .gate-question")).to_contain_text("flow and blood-pool")
    answer_gates(page)
    expect(stages).to_have_count(4)
    for label in ("Flow", "Blood pool", "Delayed"):
        expect(page.locator(".stage-header h3", has_text=label)).to_be_visible()
    expect(page.get_by_text("21.6 mCi").first).to_be_visible()
    images = page.locator(".stage img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()  # they load lazily
        images.nth(index).evaluate("i => i.complete || new Promise(done => i.addEventListener('load', done))")
    widths = images.evaluate_all("images => images.map(i => i.naturalWidth)")
    assert widths and all(width > 0 for width in widths), "every stage image is drawn"
    expect(page.get_by_text(case.diagnosis)).to_have_count(0)

    page.get_by_label("Your diagnosis").fill("heterotopic ossification, immature")
    page.get_by_role("button", name="Show diagnosis").click()

    yours = page.locator(".answer-yours")
    truth = page.locator(".answer-true")
    expect(yours).to_contain_text("heterotopic ossification, immature")
    expect(truth).to_contain_text(case.diagnosis)
    expect(page.get_by_role("heading", name="Findings")).to_be_visible()
    expect(page.get_by_role("link", name="Read the topic")).to_be_visible()
    yours_box, truth_box = yours.bounding_box(), truth.bounding_box()
    assert abs(yours_box["y"] - truth_box["y"]) < 2 and yours_box["x"] < truth_box["x"], "side by side"
    page.screenshot(path=artifacts / "case-revealed.png", full_page=True)

    page.reload()
    expect(page.locator(".answer-true")).to_contain_text(case.diagnosis)
    page.close()


def test_image_opens_large_in_the_viewer_on_a_phone(browser, demo_site, artifacts):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    log_in(page, demo_site, "resident", Case.objects.get(number="tf103").get_absolute_url())
    page.locator(".stage img").first.click()
    large = page.locator(".viewer-pane canvas").first
    expect(large).to_have_attribute("data-slice", "1")
    assert large.bounding_box()["width"] > 300
    assert large.evaluate("c => c.width") >= 600, "drawn at the phone's device pixel ratio"
    page.screenshot(path=artifacts / "viewer-phone-radiograph.png")
    page.keyboard.press("Escape")
    expect(page.locator(".viewer-dialog")).to_be_hidden()
    page.close()
