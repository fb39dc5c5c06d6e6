"""A resident works through the demo collection from case page to case page with "Next unknown"."""

import pytest
from playwright.sync_api import expect

from cases.models import Case
from demo.collection import DEMO_COLLECTION

from .conftest import answer_gates, log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_next_unknown_walks_the_three_cases_of_the_demo_collection(browser, demo_site, artifacts):
    cases = {case.number: case for case in Case.objects.filter(number__in=DEMO_COLLECTION["cases"])}
    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors = script_errors(page)
    log_in(page, demo_site, "resident", f"/collections/{DEMO_COLLECTION['slug']}/")
    expect(page.locator(".collection-progress strong")).to_have_text("0 of 3")
    page.get_by_role("link", name="Start with case tf101").click()

    title = page.get_by_role("heading", level=1)
    expect(title).to_have_text(cases["tf101"].title)
    expect(page.locator(".collection-bar-where").first).to_contain_text("case 1 of 3")
    answer_gates(page)
    expect(page.locator(".collection-bar-where").first).to_contain_text("case 1 of 3")  # still in the collection
    page.get_by_label("Your diagnosis").fill("myositis ossificans")
    page.get_by_role("button", name="Show diagnosis").click()
    expect(page.locator(".answer-true")).to_contain_text(cases["tf101"].diagnosis)

    # After the reveal the next unknown is one tap away, at the foot of the answer as at the top.
    page.locator(".collection-next").last.click()
    expect(title).to_have_text(cases["tf102"].title)
    expect(page.get_by_text(cases["tf102"].diagnosis)).to_have_count(0)
    page.locator(".collection-next").first.click()
    expect(title).to_have_text(cases["tf103"].title)
    expect(page.locator(".collection-bar-where").first).to_contain_text("case 3 of 3")
    height = page.locator(".collection-next").first.bounding_box()["height"]
    assert height >= 44, "a control a thumb can hit"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"

    # tf101 is revealed: round the collection, the next unknown is tf102.
    page.locator(".collection-next").first.click()
    expect(title).to_have_text(cases["tf102"].title)
    page.get_by_role("link", name=DEMO_COLLECTION["title"]).first.click()
    expect(page.locator(".collection-progress strong")).to_have_text("1 of 3")
    page.screenshot(path=artifacts / "collection-progress.png", full_page=True)
    assert errors == []
    page.close()
