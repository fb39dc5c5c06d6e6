"""An author sends the next PACS studies to a draft from its page, sees where they will go, and goes back."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case
from ingest.models import ReceiverRoute

from .conftest import log_in, script_errors
from .test_authoring_page import LAPTOP, _case_with_most_stages, assert_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_author_sends_pacs_studies_to_a_draft_and_back_to_new_drafts(browser, demo_site, artifacts):
    case = _case_with_most_stages()
    faculty = case.authors.get(username="faculty")
    route = ReceiverRoute.objects.filter(author=faculty).first() or ReceiverRoute.objects.create(
        ae_title="TF_FACULTY", author=faculty
    )
    page = browser.new_page(viewport=LAPTOP)
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_change", args=[case.pk]))
    box = page.locator("#pacs-destination")
    expect(box).to_contain_text(f"Studies you send to {route.ae_title} each become a new draft.")
    box.get_by_role("button", name="Send PACS studies here").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Studies sent to {route.ae_title} will be added to draft {case.number}."
    )
    expect(box).to_contain_text("are added to this draft as new stages")
    page.screenshot(path=artifacts / "pacs-destination.png", full_page=True)
    assert_fits(page)

    page.goto(demo_site + reverse("admin:cases_case_received"))
    expect(page.locator("#pacs-destinations")).to_contain_text(f"are added to draft {case.number}")
    page.screenshot(path=artifacts / "pacs-destination-inbox.png", full_page=True)
    page.locator("#pacs-destinations").get_by_role("button", name="Back to a new draft per study").click()
    routes = page.locator("#pacs-destinations")
    expect(routes).to_contain_text(f"Each study sent to {route.ae_title} becomes a new draft")
    route.refresh_from_db()
    assert route.destination is None and Case.objects.filter(pk=case.pk, status=Case.Status.DRAFT).exists()
    assert errors == []
