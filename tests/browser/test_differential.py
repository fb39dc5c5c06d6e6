"""A resident works tf101 as a work-up: the radiograph, its gate, the CT and MRI; then a differential, the reveal
with each entry marked and the gate's answer beside the author's reasoning, and a finding's link to the image."""

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseFinding, Gate

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_resident_works_tf101_through_its_gate_reveals_and_follows_a_finding_to_its_slice(
    browser, demo_site, artifacts
):
    case = Case.objects.get(number="tf101")
    gate = Gate.objects.get(series__case=case)
    choice = next(option.text for option in gate.option_list if option.is_choice)
    finding = CaseFinding.objects.select_related("view_series").get(case=case, order=2)
    slices = finding.view_series.images.count()
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = script_errors(page)
    log_in(page, demo_site, "resident", case.get_absolute_url())

    # The radiograph, then the gate's question: the CT and MRI are not on the page, nor the reveal form.
    stages = page.locator(".stage-header h3")
    expect(stages).to_have_count(1)
    form = page.locator("form[data-gate]")
    expect(form.locator(".gate-question")).to_have_text(gate.prompt)
    expect(page.get_by_label("Your diagnosis")).to_have_count(0)
    form.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "gate-desktop.png")
    form.get_by_role("button", name="Answer and go on").click()  # no option chosen: the browser asks for one
    expect(stages).to_have_count(1)
    form.get_by_label(choice).check()
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="Answer and go on").click()
    expect(stages).to_have_count(4)
    expect(page.locator(".work-up-so-far")).to_contain_text(choice)

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
    step = page.locator(".work-up-step")
    expect(step).to_have_count(1)
    expect(step.locator(".work-up-yours")).to_contain_text(choice)
    expect(step.locator(".work-up-yours")).to_contain_text("The author's choice too.")
    expect(step.locator(".work-up-reasoning")).to_contain_text(gate.reasoning[:40])
    step.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "gate-summary-desktop.png")

    item = page.locator("ol.findings li", has_text="CT demonstrates")
    item.get_by_role("link", name="Show on the image").click()
    expect(page.locator(".viewer-dialog")).to_be_visible()
    canvas = page.locator(".viewer-pane canvas").first
    expect(page.locator(".viewer-series").first).to_have_value(str(finding.view_series_id))
    expect(page.locator(".viewer-counter").first).to_have_text(f"{finding.view_slice} / {slices}")
    expect(canvas).to_have_attribute("data-slice", str(finding.view_slice))
    expect(canvas).to_have_attribute("data-mark", str(finding.view_annotation_id))
    expect(page.get_by_role("button", name="Link current view")).to_have_count(0)
    page.screenshot(path=artifacts / "finding-link-viewer.png")
    assert errors == []
    page.close()
