"""The review grid of held images, worked with the keyboard: confirm one clean, mask one, delete one."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from accounts.roles import groups_sync
from cases.models import Case, Image
from cases.tests.factories import make_case, make_user
from imaging.tests.corpus import burned_in as corpus

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held(live_server, tmp_path):
    """A faculty author's draft with four held images, one stage each: an ultrasound, a radiograph with text
    found (its boxes pre-drawn), an angiogram and a CT screen save."""
    groups_sync(group_model=Group, permission_model=Permission)  # an earlier browser test's flush took the roles
    author = make_user("author", "faculty")
    author.set_password("author")
    author.save()
    case = make_case(status=Case.Status.DRAFT, authors=[author])
    images = []
    for make in (
        corpus.make_us_flagged_no,
        corpus.make_dx_with_identifiers,
        corpus.make_xa_with_identifiers,
        corpus.make_ct_screen_save,
    ):
        [path] = make(tmp_path)
        call_command("import_study", str(path), case=case.number, stdout=io.StringIO())
        images.append(Image.objects.filter(series__case=case).latest("pk"))
    assert all(image.held_for_review for image in images)
    assert images[1].text_regions, "the radiograph's text was found"
    return case, images


def test_the_author_confirms_masks_and_deletes_with_the_keyboard(browser, live_server, held, artifacts):
    case, (us, dx, xa, ct) = held
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    errors = script_errors(page)
    log_in(page, live_server.url, "author", reverse("admin:cases_case_image_check", args=[case.pk]))
    page.wait_for_load_state("networkidle")
    expect(page.locator("#check-keys")).to_contain_text("c no identifying text")
    tiles = page.locator(".check-tile")
    expect(tiles).to_have_count(4)
    expect(page.locator(f"#image-{dx.pk} svg.check-boxes rect")).to_have_count(len(dx.text_regions))

    page.locator(f"#image-{us.pk}").focus()
    page.keyboard.press("c")  # no identifying text; the next image takes the focus
    expect(page.locator(f"#image-{dx.pk}")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(f"#image-{dx.pk}")).to_be_focused()
    page.keyboard.press("m")  # mask with the boxes found
    expect(page.locator(f"#image-{xa.pk}")).to_be_focused()
    page.keyboard.press("Delete")
    expect(page.locator(f"#image-{us.pk}")).to_have_attribute("data-check", "clear")
    expect(page.locator(f"#image-{dx.pk}")).to_have_attribute("data-check", "mask")
    expect(page.locator(f"#image-{xa.pk}")).to_have_attribute("data-check", "delete")
    expect(page.locator(f"#image-{ct.pk}")).to_have_attribute("data-check", "")
    page.screenshot(path=str(artifacts / "burned-in-review-grid.png"), full_page=True)

    # The CT's boxes miss nothing here, but the author adds one: e opens the editor on the boxes found.
    page.locator(f"#image-{ct.pk}").focus()
    page.keyboard.press("e")
    editor = page.locator(".mask-editor")
    expect(editor).to_be_visible()
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(page.locator(f"#image-{ct.pk}")).to_be_focused()
    page.keyboard.press("e")
    canvas = page.locator(".mask-editor canvas")
    expect(canvas).to_have_attribute("width", str(ct.width))  # the image has loaded
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.6 * box["height"], steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Done").click()
    expect(page.locator(f"#image-{ct.pk}")).to_have_attribute("data-check", "mask")
    expect(page.locator(f"#image-{ct.pk} svg.check-boxes rect")).to_have_count(len(ct.text_regions) + 1)

    page.get_by_role("button", name="Save the checks").focus()
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("1 image(s) confirmed free of identifying text, 2 masked")
    expect(page.locator(".check-tile")).to_have_count(0)  # the stages still wait for their labels
    page.wait_for_load_state("networkidle")  # no image request may outlive the live server
    assert errors == []
    page.close()

    us.refresh_from_db()
    dx.refresh_from_db()
    ct.refresh_from_db()
    assert not us.held_for_review and us.masks == []
    assert not dx.held_for_review and dx.masks == dx.text_regions
    assert not Image.objects.filter(pk=xa.pk).exists()
    assert not ct.held_for_review and len(ct.masks) == len(ct.text_regions) + 1
    assert ct.masks[: len(ct.text_regions)] == ct.text_regions
