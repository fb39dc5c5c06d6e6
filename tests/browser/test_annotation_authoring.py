"""What a faculty author does in the stage editor: draw an arrow on an image, label it, save, see it again."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Annotation, Case, Image

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The most opaque pixel within 2 pixels of a point given in fractions: a thin line is anti-aliased.
OPAQUEST_PIXEL_NEAR = """(canvas, [x, y]) => {
  const left = Math.round(x * canvas.width) - 2, top = Math.round(y * canvas.height) - 2;
  const data = canvas.getContext("2d").getImageData(left, top, 5, 5).data;
  let best = [0, 0, 0, 0];
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > best[3]) best = Array.from(data.slice(i, i + 4));
  return best;
}"""


@pytest.fixture(autouse=True)
def _tf102_is_a_draft(demo_site):
    """Authors annotate their drafts: a published case's images change only through an editor."""
    Case.objects.filter(number="tf102").update(status=Case.Status.DRAFT)


def test_faculty_draws_labels_and_saves_an_arrow(browser, demo_site, artifacts):
    image = Image.objects.filter(series__case__number="tf102", series__case__authors__username="faculty").first()
    url = reverse("admin:cases_image_annotations", args=[image.pk])
    before = image.annotations.count()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_series_change", args=[image.series_id]))

    opener = page.locator(f'button.annotate-open[data-url="{url}"]')
    expect(opener).to_have_text(f"Annotations ({before})")
    opener.click()
    editor = page.get_by_role("dialog", name="Annotate image")
    expect(editor.get_by_role("button", name="Save")).to_be_enabled()  # the stored annotations have loaded
    editor.get_by_role("button", name="Arrow", exact=True).click()
    box = editor.locator("canvas").bounding_box()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.3 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.7 * box["height"], steps=8)
    page.mouse.up()
    editor.get_by_label("Label", exact=True).fill("periosteal reaction")
    editor.get_by_label("Shown after reveal").uncheck()
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_have_text("Saved")

    arrow = image.annotations.get(label="periosteal reaction")
    assert (arrow.kind, arrow.after_reveal) == (Annotation.Kind.ARROW, False)
    assert [round(value, 1) for value in (arrow.x1, arrow.y1, arrow.x2, arrow.y2)] == [0.2, 0.3, 0.6, 0.7]
    assert image.annotations.count() == before + 1

    editor.get_by_role("button", name="Cancel").click()
    expect(editor).to_have_count(0)
    expect(opener).to_have_text(f"Annotations ({before + 1})")
    opener.click()
    expect(editor.get_by_role("button", name="Save")).to_be_enabled()
    listed = editor.get_by_role("listitem").filter(has_text="Arrow: periosteal reaction (before reveal)")
    expect(listed).to_have_count(1)
    red, green, blue, alpha = editor.locator("canvas").evaluate(
        OPAQUEST_PIXEL_NEAR, [(arrow.x1 + arrow.x2) / 2, (arrow.y1 + arrow.y2) / 2]
    )
    assert alpha > 200 and red > 200 and green > 150 and blue < 80, "the arrow is drawn in yellow"
    page.screenshot(path=artifacts / "annotation-editor.png")

    listed.get_by_role("button").click()  # selects it, as a click on the drawing would
    expect(editor.get_by_label("Label", exact=True)).to_have_value("periosteal reaction")
    page.keyboard.press("Delete")
    expect(editor.get_by_role("listitem")).to_have_count(before)
    page.keyboard.press("Escape")
    expect(editor).to_contain_text("Not saved yet")
    page.keyboard.press("Escape")  # the second time closes without saving
    expect(editor).to_have_count(0)
    expect(opener).to_be_focused()
    assert image.annotations.filter(label="periosteal reaction").exists()
    assert errors == []
    page.close()


def test_text_is_placed_by_a_click_and_a_mark_moved_by_dragging(browser, demo_site):
    image = Image.objects.filter(series__case__number="tf102").first()
    url = reverse("admin:cases_image_annotations", args=[image.pk])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "faculty", reverse("admin:cases_series_change", args=[image.series_id]))
    page.locator(f'button.annotate-open[data-url="{url}"]').click()
    editor = page.get_by_role("dialog", name="Annotate image")
    expect(editor.get_by_role("button", name="Save")).to_be_enabled()
    canvas = editor.locator("canvas")
    box = canvas.bounding_box()

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    editor.get_by_role("button", name="Text", exact=True).click()
    canvas.click(position={"x": 0.5 * box["width"], "y": 0.2 * box["height"]})
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_have_text("Type the text of this text label, or delete it.")
    expect(editor.get_by_label("Label", exact=True)).to_be_focused()
    page.keyboard.type("L")

    editor.get_by_role("button", name="Ellipse", exact=True).click()
    page.mouse.move(*at(0.3, 0.5))
    page.mouse.down()
    page.mouse.move(*at(0.5, 0.7), steps=5)
    page.mouse.up()
    editor.get_by_role("button", name="Select / move").click()
    page.mouse.move(*at(0.4, 0.6))
    page.mouse.down()
    page.mouse.move(*at(0.5, 0.7), steps=5)
    page.mouse.up()
    expect(editor.get_by_label("Shown after reveal")).to_be_checked()
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_have_text("Saved")

    text = image.annotations.get(kind="text")
    assert (text.label, round(text.x1, 1), round(text.y1, 1)) == ("L", 0.5, 0.2)
    ellipse = image.annotations.get(kind="ellipse")
    assert [round(value, 1) for value in (ellipse.x1, ellipse.y1, ellipse.x2, ellipse.y2)] == [0.4, 0.6, 0.6, 0.8]
    assert ellipse.after_reveal
    page.close()
