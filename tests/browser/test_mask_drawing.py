"""Masks as an author draws them on the check page (static/js/image_check.js and static/js/mask.js): the boxes
outlined on each held image, a mask drawn, undone, cancelled and typed, a choice clicked, a whole stage confirmed
clean with one button."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case, Image

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOUND = [10, 10, 40, 20]  # a box where the import "found text": no OCR needed to hold an image


def drag(page, canvas, start: tuple[float, float], end: tuple[float, float]) -> None:
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=4)
    page.mouse.up()


@pytest.fixture
def held(demo_site):
    """Two images of one stage of the faculty author's draft, held for burned-in text; text found on the first."""
    Case.objects.filter(number="tf102").update(status=Case.Status.DRAFT)
    first = Image.objects.filter(series__case__number="tf102", series__case__authors__username="faculty").first()
    second = first.series.images.exclude(pk=first.pk).first()
    Image.objects.filter(pk__in=[first.pk, second.pk]).update(held_for_review=True)
    Image.objects.filter(pk=first.pk).update(text_regions=[FOUND])
    return first, second


def test_the_author_draws_undoes_and_cancels_masks_and_clears_a_stage(browser, demo_site, held):
    first, second = held
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_image_check", args=[first.series.case_id]))
    one, two = page.locator(f"#image-{first.pk}"), page.locator(f"#image-{second.pk}")
    expect(one.locator("svg.check-boxes rect")).to_have_count(1)
    expect(two.locator("svg.check-boxes rect")).to_have_count(0)

    # Draw two boxes over the boxes found, undo the second: the mask is the box found and the first drawn.
    one.get_by_role("button", name="Draw mask").click()
    canvas = page.locator(".mask-editor canvas")
    expect(canvas).to_have_attribute("width", str(first.width))  # the image has loaded
    drag(page, canvas, (0.5, 0.5), (0.75, 0.7))
    drag(page, canvas, (0.1, 0.6), (0.3, 0.9))
    page.get_by_role("button", name="Undo").click()
    page.get_by_role("button", name="Done").click()
    expect(page.locator(".mask-editor")).to_have_count(0)
    field = one.locator("input.mask-rectangles")
    rectangles = [[int(v) for v in part.split(",")] for part in field.input_value().split("; ")]
    assert len(rectangles) == 2 and rectangles[0] == FOUND
    x, y, width, height = rectangles[1]
    assert abs(x - first.width // 2) <= 2 and abs(width - first.width // 4) <= 2, rectangles
    assert abs(y - first.height // 2) <= 2 and abs(height - first.height // 5) <= 2, rectangles
    expect(one).to_have_attribute("data-check", "mask")
    expect(one.get_by_role("radio", checked=True)).to_have_value("mask")
    expect(one.locator("svg.check-boxes rect")).to_have_count(2)

    # A box drawn then cancelled leaves the field as it was; a mask typed is outlined as it is typed.
    two.focus()
    page.keyboard.press("e")
    drag(page, page.locator(".mask-editor canvas"), (0.2, 0.2), (0.6, 0.6))
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".mask-editor")).to_have_count(0)
    expect(two).to_be_focused()
    expect(two.locator("input.mask-rectangles")).to_have_value("")
    two.locator("input.mask-rectangles").fill("1,2,30,40; 50,60,10,10")
    expect(two.locator("svg.check-boxes rect")).to_have_count(2)
    two.locator("input[type=radio][value=delete]").check()
    expect(two).to_have_attribute("data-check", "delete")

    # One button confirms every image of the stage free of identifying text.
    page.get_by_role("button", name="Every image of this stage: no identifying text").click()
    for tile in (one, two):
        expect(tile).to_have_attribute("data-check", "clear")
        expect(tile.get_by_role("radio", checked=True)).to_have_value("clear")
    assert errors == []
    page.close()
