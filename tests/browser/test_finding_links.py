"""A finding that points at the image: an editor links one with "Link current view" (a resident's click on a
finding's link, opening the viewer on its slice with its arrow, is in test_differential.py's work-up)."""

import pytest
from playwright.sync_api import expect

from cases.models import CaseFinding

from .conftest import answer_gates, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_links_a_finding_to_the_current_view(browser, demo_site, artifacts):
    radiograph = CaseFinding.objects.get(case__number="tf101", order=1)
    assert radiograph.view_query == ""
    editor = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(editor, demo_site, "editor", radiograph.case.get_absolute_url())
    answer_gates(editor)  # an editor works through the page's gates as readers do
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
