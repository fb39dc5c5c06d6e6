"""A finding that points at the image: an editor links one with "Link current view"; after the reveal, a
resident's click on a finding's link opens the viewer on its slice with its arrow picked out."""

import pytest
from playwright.sync_api import expect

from cases.models import CaseFinding

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_finding_is_linked_to_a_view_and_its_link_opens_the_viewer_on_its_arrow(browser, demo_site, artifacts):
    radiograph = CaseFinding.objects.get(case__number="tf101", order=1)
    assert radiograph.view_query == ""
    editor = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(editor, demo_site, "editor", radiograph.case.get_absolute_url())
    editor.get_by_label("Your diagnosis").fill("heterotopic ossification")
    editor.get_by_role("button", name="Show diagnosis").click()
    item = editor.locator("ol.findings li", has_text="The radiograph shows")
    item.get_by_role("button", name="Link a view").click()
    expect(editor.locator(".viewer-counter").first).to_have_text("1 / 1")
    editor.get_by_role("button", name="Link current view").click()
    expect(editor.locator(".viewer-dialog")).to_be_hidden()
    expect(item.get_by_role("link", name="Show on the image")).to_be_visible()
    editor.locator("ol.findings").screenshot(path=artifacts / "finding-links-author.png")
    radiograph.refresh_from_db()
    assert radiograph.view_slice == 1 and radiograph.view_series.modality == "XR"
    editor.close()

    finding = CaseFinding.objects.select_related("view_series").get(case__number="tf101", order=2)
    slices = finding.view_series.images.count()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = script_errors(page)
    log_in(page, demo_site, "resident", finding.case.get_absolute_url())
    expect(page.locator("a.finding-link")).to_have_count(0)
    page.get_by_label("Your diagnosis").fill("heterotopic ossification")
    page.get_by_role("button", name="Show diagnosis").click()

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
