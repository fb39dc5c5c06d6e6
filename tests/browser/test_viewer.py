"""The image viewer, as a resident sees it: slices, windows, zoom, cine, annotations, deep links, touch."""

import pytest
from playwright.sync_api import expect

from cases.models import Case, Phase, Series
from imaging import windows

from .conftest import answer_gates, log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANVAS_SUM = """c => {
  if (!c.width || !c.height) return -1;  // not drawn yet
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0; for (let i = 0; i < data.length; i += 4) sum += data[i];
  return sum;
}"""
# Annotations are drawn in yellow; the images themselves are grey.
YELLOW_PIXELS = """c => {
  if (!c.width || !c.height) return -1;  // not drawn yet
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let count = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] > 200 && data[i + 1] > 170 && data[i + 2] < 90) count++;
  return count;
}"""


def ct_series() -> Series:
    return Series.objects.get(case__number="tf101", modality="CT")


def open_stage(page, label: str):
    page.locator(".stage", has_text=label).locator(".stage-images img").first.click()
    canvas = page.locator(".viewer-pane canvas").first
    expect(canvas).to_be_visible()
    return canvas


def wait_for_stack(page, total: int) -> None:
    page.wait_for_function(f"() => document.querySelector('.viewer-pane').dataset.loaded === '{total}'", timeout=20_000)


def test_ct_stack_scrolls_windows_and_zooms(browser, demo_site, artifacts):
    case = Case.objects.get(number="tf101")
    slices = ct_series().images.count()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = script_errors(page)
    log_in(page, demo_site, "resident", case.get_absolute_url())
    answer_gates(page)
    canvas = open_stage(page, "CT")
    counter = page.locator(".viewer-counter").first
    expect(counter).to_have_text(f"{slices // 2 + 1} / {slices}")
    expect(canvas).to_have_attribute("data-slice", str(slices // 2 + 1))
    wait_for_stack(page, slices)
    assert page.workers, "the stack is inflated in Web Workers (viewer-inflate.js), not on the page's thread"
    first = canvas.evaluate(CANVAS_SUM)

    canvas.hover()
    page.mouse.wheel(0, 120)
    expect(counter).to_have_text(f"{slices // 2 + 2} / {slices}")
    expect(canvas).to_have_attribute("data-slice", str(slices // 2 + 2))
    assert canvas.evaluate(CANVAS_SUM) != first, "the next slice is drawn"
    expect(page.locator(".viewer-position").first).to_contain_text("mm")

    # tf101's CT opens in its bone window (Series.window_preset): go to soft tissue, then back to bone.
    page.locator(".viewer-preset").first.select_option(label="Soft tissue")
    soft_window = f"W {windows.SOFT_TISSUE.width:g} L {windows.SOFT_TISSUE.center:g}"
    expect(page.locator(".viewer-window").first).to_have_text(soft_window)
    page.wait_for_timeout(100)  # the frame drawn in the new window
    soft = canvas.evaluate(CANVAS_SUM)
    page.locator(".viewer-preset").first.select_option(label="Bone")
    bone = f"W {windows.BONE.width:g} L {windows.BONE.center:g}"
    expect(page.locator(".viewer-window").first).to_have_text(bone)  # the server's preset, not a copy
    page.wait_for_function(f"c => ({CANVAS_SUM})(c) !== {soft}", arg=canvas.element_handle())
    page.screenshot(path=artifacts / "viewer-ct-bone.png")

    zoom = page.locator(".viewer-zoom").first
    fitted = zoom.text_content()
    page.get_by_role("button", name="Zoom in").click()
    expect(zoom).not_to_have_text(fitted)
    page.get_by_role("button", name="1:1").click()
    expect(zoom).to_have_text("Zoom 100%")
    page.get_by_role("button", name="Fit").click()
    expect(zoom).to_have_text(fitted)

    canvas.focus()
    page.keyboard.press("Home")
    expect(counter).to_have_text(f"1 / {slices}")
    page.keyboard.press("?")
    expect(page.get_by_role("heading", name="Keyboard and mouse")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="Keyboard and mouse")).to_be_hidden()
    expect(page.locator(".viewer-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".viewer-dialog")).to_be_hidden()
    assert errors == []
    page.close()


def test_arrows_arrive_after_the_reveal_and_toggle_with_a(browser, demo_site, artifacts):
    case = Case.objects.get(number="tf101")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", case.get_absolute_url())
    answer_gates(page)
    canvas = open_stage(page, "CT")
    wait_for_stack(page, ct_series().images.count())
    assert canvas.evaluate(YELLOW_PIXELS) == 0, "no annotation before the reveal"
    page.keyboard.press("Escape")

    page.get_by_label("Your diagnosis").fill("heterotopic ossification")
    page.get_by_role("button", name="Show diagnosis").click()
    expect(page.locator(".answer-true")).to_be_visible()
    canvas = open_stage(page, "CT")
    page.wait_for_function(f"c => ({YELLOW_PIXELS})(c) > 200", arg=canvas.element_handle())
    page.screenshot(path=artifacts / "viewer-arrows-on.png")

    page.keyboard.press("a")
    expect(page.get_by_role("button", name="Arrows")).to_have_attribute("aria-pressed", "false")
    page.wait_for_function(f"c => ({YELLOW_PIXELS})(c) === 0", arg=canvas.element_handle())
    page.get_by_role("button", name="Arrows").click()
    page.wait_for_function(f"c => ({YELLOW_PIXELS})(c) > 200", arg=canvas.element_handle())
    page.close()


def test_flow_phase_plays_as_cine_and_shows_as_a_grid(browser, demo_site, artifacts):
    flow = Series.objects.get(case__number="tf102", phase=Phase.FLOW)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", flow.case.get_absolute_url())
    canvas = open_stage(page, "Flow")
    wait_for_stack(page, flow.images.count())
    page.locator(".viewer-fps").first.fill("20")
    page.get_by_role("button", name="Play").first.click()
    seen = set()
    for _ in range(8):
        seen.add(canvas.get_attribute("data-slice"))
        page.wait_for_timeout(120)
    assert len(seen) >= 4, f"cine shows one frame after another: {seen}"
    page.get_by_role("button", name="Pause").first.click()
    page.wait_for_timeout(200)  # a frame already drawing when Pause was pressed may still land
    paused = canvas.get_attribute("data-slice")
    page.wait_for_timeout(400)
    assert canvas.get_attribute("data-slice") == paused

    single = canvas.evaluate(CANVAS_SUM)
    page.get_by_role("button", name="Grid").first.click()
    expect(page.locator(".viewer-counter").first).to_have_text(f"{flow.images.count()} frames")
    assert canvas.evaluate(CANVAS_SUM) != single
    page.screenshot(path=artifacts / "viewer-flow-grid.png")
    page.close()


def test_deep_link_opens_the_slice_window_and_zoom_but_no_hidden_stage(browser, demo_site, artifacts):
    ct = ct_series()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    deep_link = f"{ct.case.get_absolute_url()}?series={ct.pk}&slice=10&wl=500&ww=2000&zoom=2"
    log_in(page, demo_site, "resident", deep_link.replace("&", "%26"))
    # Behind tf101's gate the CT is not sent: its deep link opens nothing of it.
    expect(page.locator(".viewer-status")).to_contain_text("not available to you yet")
    expect(page.locator(".viewer-series").first.locator("option")).to_have_count(1)
    page.keyboard.press("Escape")
    answer_gates(page)
    page.goto(demo_site + deep_link)
    expect(page.locator(".viewer-dialog")).to_be_visible()
    expect(page.locator(".viewer-counter").first).to_have_text(f"10 / {ct.images.count()}")
    expect(page.locator(".viewer-pane canvas").first).to_have_attribute("data-slice", "10")
    expect(page.locator(".viewer-window").first).to_have_text("W 2000 L 500")
    expect(page.locator(".viewer-zoom").first).to_have_text("Zoom 200%")
    page.get_by_role("button", name="Link to view").click()
    shared = page.get_by_label("Link to this view").input_value()
    assert f"series={ct.pk}&slice=10&wl=500&ww=2000&zoom=2" in shared

    with page.expect_popup() as popup:
        page.get_by_role("link", name="Open separately").click()
    separate = popup.value
    expect(separate.locator(".viewer-counter").first).to_have_text(f"10 / {ct.images.count()}")
    expect(separate.get_by_role("link", name="Back to the case")).to_be_visible()
    separate.screenshot(path=artifacts / "viewer-separate-page.png")
    separate.close()

    page.goto(f"{demo_site}{ct.case.get_absolute_url()}?series={ct.pk}&slice=abc&ww=x")
    expect(page.locator(".viewer-counter").first).to_have_text(f"{ct.images.count() // 2 + 1} / {ct.images.count()}")

    hidden = Series.objects.get(case__number="tf103", after_reveal=True)
    page.goto(f"{demo_site}{hidden.case.get_absolute_url()}?series={hidden.pk}&slice=1")
    expect(page.locator(".viewer-status")).to_contain_text("not available to you yet")
    presented = hidden.case.series.filter(after_reveal=False).count()
    expect(page.locator(".viewer-series").first.locator("option")).to_have_count(presented)
    page.screenshot(path=artifacts / "viewer-deep-link-refused.png")
    page.close()


def test_compare_links_scrolling_of_two_series(browser, demo_site):
    ct = ct_series()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", ct.case.get_absolute_url())
    answer_gates(page)
    open_stage(page, "CT")
    expect(page.locator(".viewer-counter").first).to_have_text(f"{ct.images.count() // 2 + 1} / {ct.images.count()}")
    page.keyboard.press("c")
    panes = page.locator(".viewer-pane")
    expect(panes.nth(1)).to_be_visible()
    stir = Series.objects.get(case=ct.case, sequence="STIR")
    panes.nth(1).locator(".viewer-series").select_option(str(stir.pk))
    page.get_by_role("button", name="Link scroll").click()
    left, right = panes.nth(0).locator(".viewer-counter"), panes.nth(1).locator(".viewer-counter")
    panes.nth(0).locator("canvas").focus()
    page.keyboard.press("End")
    expect(left).to_have_text(f"{ct.images.count()} / {ct.images.count()}")
    expect(right).to_have_text(f"{stir.images.count()} / {stir.images.count()}")
    page.keyboard.press("Home")
    expect(right).to_have_text(f"1 / {stir.images.count()}")
    page.close()


def test_touch_swipe_scrolls_the_stack_on_a_phone(browser, demo_site, artifacts):
    ct = ct_series()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, demo_site, "resident", ct.case.get_absolute_url())
    answer_gates(page)
    canvas = open_stage(page, "CT")
    counter = page.locator(".viewer-counter").first
    start = ct.images.count() // 2 + 1
    expect(counter).to_have_text(f"{start} / {ct.images.count()}")
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch = context.new_cdp_session(page)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + step * 8}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect(counter).to_have_text(f"{start + 10} / {ct.images.count()}")
    assert canvas.bounding_box()["width"] > 300
    page.screenshot(path=artifacts / "viewer-phone.png")
    context.close()
