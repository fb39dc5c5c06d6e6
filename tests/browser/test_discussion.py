"""The discussion as people use it: a resident comments and replies in Markdown; an editor hides a flagged comment."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from cases.models import Case, Series
from discussions.models import Comment

from .conftest import answer_gates, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comment_reply_and_moderation(browser, demo_site, artifacts):
    case = Case.objects.get(number="tf103")
    rude = Comment.objects.create(
        case=case, author=get_user_model().objects.get(username="faculty2"), body="A rude remark about someone."
    )
    resident = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(resident, demo_site, "resident", case.get_absolute_url())
    resident.get_by_label("Your diagnosis").fill("heterotopic ossification")
    resident.get_by_role("button", name="Show diagnosis").click()
    resident.get_by_role("link", name="Read and join the discussion").click()

    resident.get_by_label("Your comment").fill("The **rim** matures first:\n\n- rim\n- then the centre")
    resident.get_by_role("button", name="Post comment").click()
    mine = resident.locator(".comment", has_text="matures first").first
    expect(mine.locator(".comment-body strong")).to_have_text("rim")
    expect(mine.locator(".comment-body li")).to_have_count(2)

    mine.locator("summary", has_text="Reply").click()
    mine.get_by_label("Your reply").fill("Compare `CT` with the *radiograph*.")
    mine.get_by_role("button", name="Post reply").click()
    reply = resident.locator(".comment-replies .comment", has_text="Compare")
    expect(reply.locator("code")).to_have_text("CT")
    expect(reply.locator("em")).to_have_text("radiograph")

    flagged = resident.locator(f"#comment-{rude.pk}")
    flagged.get_by_role("button", name="Flag for an editor").click()
    expect(resident.get_by_text("an editor will look at this comment")).to_be_visible()
    resident.screenshot(path=artifacts / "discussion-thread.png", full_page=True)

    editor = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(editor, demo_site, "editor", "/discussion/moderation/")
    flagged_entry = editor.locator(".comment", has_text="A rude remark")
    flagged_entry.get_by_role("button", name="Hide").click()
    expect(editor.get_by_text("The comment is hidden from readers.")).to_be_visible()
    editor.close()

    resident.reload()
    expect(resident.get_by_text("A rude remark")).to_have_count(0)
    expect(resident.locator(".comment", has_text="matures first").first).to_be_visible()
    resident.close()


def test_a_comment_points_at_an_image_and_its_link_opens_the_viewer_there(browser, demo_site, artifacts):
    ct = Series.objects.get(case__number="tf101", modality="CT")
    slices = ct.images.count()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", ct.case.get_absolute_url())
    answer_gates(page)
    page.get_by_label("Your diagnosis").fill("heterotopic ossification")
    page.get_by_role("button", name="Show diagnosis").click()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Read and join the discussion").click()

    page.get_by_label("Your comment").fill("The cortex shows best on")
    page.locator(".comment-new").get_by_role("button", name="Point at an image").click()
    dialog = page.locator(".viewer-dialog")
    expect(dialog).to_be_visible()
    page.locator(".viewer-series").first.select_option(str(ct.pk))
    canvas = page.locator(".viewer-pane canvas").first
    canvas.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator(".viewer-counter").first).to_have_text(f"3 / {slices}")
    page.get_by_role("button", name="Insert in comment").click()
    expect(dialog).to_be_hidden()
    text = page.get_by_label("Your comment").input_value()
    assert text.startswith(f"The cortex shows best on [{ct.label}, image 3 of {slices}](")
    assert f"series={ct.pk}&slice=3" in text
    page.get_by_role("button", name="Post comment").click()

    link = page.locator(".comment-body a", has_text="image 3 of")
    expect(link).to_be_visible()
    link.click()
    expect(dialog).to_be_visible()
    expect(page.locator(".viewer-counter").first).to_have_text(f"3 / {slices}")
    expect(canvas).to_have_attribute("data-slice", "3")
    expect(page.get_by_role("button", name="Insert in comment")).to_be_hidden()
    page.screenshot(path=artifacts / "discussion-viewer-link.png")
    page.close()
