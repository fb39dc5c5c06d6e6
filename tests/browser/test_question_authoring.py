"""What a faculty author does in the question editor: pick an image by its thumbnail, draw a polygon target on a
slice, save; and what a resident then sees answering it, inside the polygon and outside it."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Image
from cases.tests.factories import make_case, make_image, make_series
from quizzes.models import Question, Quiz
from quizzes.tests.factories import make_click, make_quiz

from .conftest import log_in, script_errors
from .test_quiz import IMAGE_POINT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An "L" in fractions of the image: (0.3, 0.7) lies in its foot, (0.6, 0.4) in the notch outside it.
CORNERS = [(0.2, 0.2), (0.4, 0.2), (0.4, 0.6), (0.8, 0.6), (0.8, 0.8), (0.2, 0.8)]


@pytest.fixture
def authors_case(demo_site):
    """A published case of the demo's faculty author: a radiograph, and a stack of six slices."""
    case = make_case(authors=[get_user_model().objects.get(username="faculty")])
    make_image(series=make_series(case=case, label_confirmed=True))
    stack = make_series(case=case, label_confirmed=True, modality="CT")
    slices = [make_image(series=stack, order=order) for order in range(1, 7)]
    Image.objects.filter(pk=slices[2].pk).update(is_key=True)
    return case


def at(page, svg, point):
    box = svg.bounding_box()
    return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]


def draw_polygon(page, svg):
    for corner in CORNERS:
        page.mouse.click(*at(page, svg, corner))
    page.mouse.click(*at(page, svg, (CORNERS[0][0] + 0.005, CORNERS[0][1])))  # the first corner again closes it


def test_faculty_picks_a_stage_draws_a_polygon_and_a_resident_is_marked_by_it(
    browser, demo_site, authors_case, artifacts
):
    case, stack = authors_case, authors_case.series.get(modality="CT")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:quizzes_question_add"))
    page.get_by_label("Key").fill("find-the-l")
    page.get_by_label("Kind").select_option("click")
    page.get_by_label("Stem").fill("Mark the finding.")
    page.locator("#id_case").fill(str(case.pk))
    picker = page.locator(".question-picker")
    expect(picker.get_by_role("heading")).to_have_text(["Stage 1: Radiograph", "Stage 2: CT (6 slices)"])
    expect(picker.get_by_role("status").first).to_have_text("Click the stage the resident will click on.")
    picker.get_by_role("button", name="Stage 2: CT, image 3").click()

    drawer = page.locator(".target-drawer")
    expect(drawer.locator(".target-slice output")).to_have_text("3 of 6")
    drawer.get_by_role("button", name="Polygon", exact=True).click()
    svg = drawer.get_by_role("img", name="Drawing area for the target")
    svg.scroll_into_view_if_needed()
    draw_polygon(page, svg)
    expect(drawer.locator(".target-status")).to_have_text(
        "Polygon of 6 corners. A click inside the shaded area on slices 3–3 counts as correct."
    )
    expect(svg.locator("polygon.target-shade")).to_have_count(1)
    page.mouse.move(*at(page, svg, (0.3, 0.7)))
    expect(drawer.locator(".target-probe")).to_have_text("A click here counts as correct.")
    page.mouse.move(*at(page, svg, (0.6, 0.4)))
    expect(drawer.locator(".target-probe")).to_have_text("A click here does not count.")
    page.screenshot(path=artifacts / "question-target-drawn.png", full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert errors == []

    question = Question.objects.get(key="find-the-l")
    assert (question.series, question.target_shape, question.slice_from, question.slice_to) == (stack, "polygon", 3, 3)
    assert [[round(v, 2) for v in corner] for corner in question.target_points] == [list(c) for c in CORNERS]
    page.close()

    for point, verdict in (((0.3, 0.7), "Correct"), ((0.6, 0.4), "Incorrect")):
        answer_as_resident(browser, demo_site, question, point, verdict, artifacts)


def answer_as_resident(browser, demo_site, question, point, verdict, artifacts):
    quiz = make_quiz(questions=[question], mode=Quiz.Mode.PRACTICE, title=f"Practice {verdict}")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", quiz.get_absolute_url())
    page.get_by_role("button", name="Start").click()
    canvas = page.locator(".quiz-viewer canvas").first
    expect(canvas).to_have_attribute("data-slice", "1")
    canvas.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(canvas).to_have_attribute("data-slice", "3")
    image = question.series.images.first()
    x, y = canvas.evaluate(f"c => ({IMAGE_POINT})([c, {point[0]}, {point[1]}, {image.width}, {image.height}])")
    page.mouse.click(x, y)
    expect(page.locator(".pick-status")).to_contain_text("Marked on image 3")
    page.get_by_role("button", name="Answer").click()
    feedback = page.locator(".feedback")
    expect(feedback.get_by_role("heading", name=verdict, exact=True)).to_be_visible()
    expect(feedback).to_contain_text("slices 3–3, inside the yellow outline")
    expect(feedback.locator("svg polygon.target-circle")).to_have_count(1)
    expect(feedback.locator(".target-figure figcaption")).to_have_text(
        re.compile(r"Slice 3 with the target \(yellow outline\) and your mark \(cross\)\.")
    )
    page.screenshot(path=artifacts / f"question-polygon-{verdict.lower()}.png", full_page=True)
    page.close()


def test_faculty_picks_an_image_for_a_single_best_answer_by_its_thumbnail(browser, demo_site, authors_case):
    case = authors_case
    radiograph = case.series.get(modality="XR").images.get()
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:quizzes_question_add"))
    page.get_by_label("Key").fill("which-one")
    page.get_by_label("Stem").fill("Which one?")
    page.locator("#id_case").fill(str(case.pk))
    picker = page.locator(".question-picker")
    thumb = picker.get_by_role("button", name="Stage 1: Radiograph", exact=True)
    expect(thumb).to_have_attribute("aria-pressed", "false")
    thumb.click()
    expect(thumb).to_have_attribute("aria-pressed", "true")
    expect(picker.get_by_role("status").first).to_contain_text("Picked Stage 1: Radiograph, image 1")
    stack_slider = picker.locator(".picker-slice input")
    stack_slider.fill("5")
    expect(picker.get_by_role("button", name="Stage 2: CT, image 5")).to_have_attribute("aria-pressed", "false")
    for index in range(5):
        page.locator(f"#id_options-{index}-text").fill(f"answer {index}")
        page.locator(f"#id_options-{index}-rationale").fill("Because.")
    page.locator("#id_options-2-is_correct").check()
    page.get_by_label("Kind").select_option("sba")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Question.objects.get(key="which-one").image == radiograph
    assert errors == []
    page.close()


def test_a_stored_circle_is_shown_and_a_new_circle_dragged(browser, demo_site, authors_case):
    stack = authors_case.series.get(modality="CT")
    question = make_click(case=authors_case, series=stack, key="old-circle", slice_from=2, slice_to=4)
    question.authors.add(get_user_model().objects.get(username="faculty"))
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:quizzes_question_change", args=[question.pk]))
    drawer = page.locator(".target-drawer")
    expect(drawer.locator(".target-slice output")).to_have_text("2 of 6")  # the first slice that counts
    svg = drawer.get_by_role("img", name="Drawing area for the target")
    expect(svg.locator("circle.target-shade")).to_have_count(1)
    expect(drawer.get_by_role("button", name="Circle")).to_have_attribute("aria-pressed", "true")
    svg.scroll_into_view_if_needed()
    page.mouse.move(*at(page, svg, (0.3, 0.4)))
    page.mouse.down()
    page.mouse.move(*at(page, svg, (0.4, 0.4)), steps=5)
    page.mouse.up()
    expect(drawer.locator(".target-status")).to_have_text(
        "Circle. A click inside the shaded area on slices 2–4 counts as correct."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    question.refresh_from_db()
    assert question.target_shape == "circle" and question.target_points == []
    assert [round(v, 2) for v in (question.target_x, question.target_y, question.target_radius)] == [0.3, 0.4, 0.1]
    assert errors == []
    page.close()
