"""Quizzes as a resident takes them: the demo exam from start to score, and practice feedback."""

import re

import pytest
from playwright.sync_api import expect

from quizzes.models import Question, Quiz

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the image lies on the canvas when the viewer fits it: the same arithmetic as the viewer's layout.
IMAGE_POINT = """([canvas, x, y, width, height]) => {
  const scale = Math.min(canvas.clientWidth / width, canvas.clientHeight / height);
  const box = canvas.getBoundingClientRect();
  return [box.left + canvas.clientWidth / 2 + (x - 0.5) * width * scale,
          box.top + canvas.clientHeight / 2 + (y - 0.5) * height * scale];
}"""


def current_question(page, order: list[Question]) -> Question:
    number = int(re.search(r"Question (\d+) of", page.locator("h1").text_content()).group(1))
    return order[number - 1]


def answer_correctly(page, question: Question, artifacts) -> None:
    if question.kind == Question.Kind.SINGLE_BEST:
        page.get_by_label(question.options.get(is_correct=True).text, exact=True).check()
    elif question.kind == Question.Kind.UNKNOWN_CASE:
        # The images open in the viewer from the question's own data, which names no case.
        page.locator(".stage img").first.click()
        expect(page.locator(".viewer-dialog canvas").first).to_have_attribute("data-slice", re.compile(r"\d+"))
        expect(page.locator(".viewer-dialog [data-action=separate]")).to_have_count(0)
        page.keyboard.press("Escape")
        page.get_by_label("Your diagnosis").fill("HO")
    else:
        canvas = page.locator(".quiz-viewer canvas").first
        expect(canvas).to_have_attribute("data-slice", "1")  # from the top: finding the level is the question
        slice_number = (question.slice_from + question.slice_to) // 2
        canvas.focus()
        for _ in range(slice_number - 1):
            page.keyboard.press("ArrowDown")
        expect(canvas).to_have_attribute("data-slice", str(slice_number))
        image = question.series.images.first()
        x, y = canvas.evaluate(
            f"c => ({IMAGE_POINT})([c, {question.target_x}, {question.target_y}, {image.width}, {image.height}])"
        )
        page.mouse.click(x, y)
        expect(page.locator(".pick-status")).to_contain_text(f"Marked on image {slice_number}")
        page.screenshot(path=artifacts / "quiz-click-the-finding.png")
    page.get_by_role("button", name="Answer").click()


def test_the_demo_exam_from_start_to_score(browser, demo_site, artifacts):
    quiz = Quiz.objects.get(slug="unknowns-pelvis-hips")
    total = quiz.questions.count()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", quiz.get_absolute_url())
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".countdown")).to_contain_text(re.compile(r"\d+:\d\d"))
    attempt = quiz.attempts.get()
    order = [Question.objects.get(pk=pk) for pk in attempt.question_ids]
    kinds = set()
    for number in range(1, total + 1):
        expect(page.locator("h1")).to_have_text(f"Question {number} of {total}")
        question = current_question(page, order)
        kinds.add(question.kind)
        if number == 1 and question.kind == Question.Kind.UNKNOWN_CASE:
            page.get_by_label("Your diagnosis").fill("osteosarcoma")
            page.get_by_role("button", name="Answer").click()
            continue
        answer_correctly(page, question, artifacts)
        expect(page.locator(".feedback")).to_have_count(0)  # exam mode: no feedback yet
    assert kinds == {"unknown", "click"}
    expect(page.locator("h1")).to_have_text("All questions answered")
    page.get_by_role("button", name="See the results").click()

    first_wrong = order[0].kind == Question.Kind.UNKNOWN_CASE
    right = total - 1 if first_wrong else total
    expect(page.locator(".results-score")).to_contain_text(f"{right} / {total}")
    expect(page.locator(".feedback-right")).to_have_count(right)
    expect(page.locator(".target-figure")).to_have_count(1)
    page.screenshot(path=artifacts / "quiz-results.png", full_page=True)
    # Each question's feedback is folded: the page shows the summary and one line per question until opened.
    first = page.locator("details.result").first
    expect(first.locator(".feedback")).to_be_hidden()
    first.locator("summary").click()
    expect(first.locator(".feedback")).to_be_visible()
    page.close()


def test_practice_gives_feedback_after_each_answer(browser, demo_site, artifacts):
    quiz = Quiz.objects.get(slug="ho-practice")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, demo_site, "resident", quiz.get_absolute_url())
    page.get_by_role("button", name="Start").click()
    attempt = quiz.attempts.get()
    order = [Question.objects.get(pk=pk) for pk in attempt.question_ids]
    first = current_question(page, order)
    while first.kind != Question.Kind.SINGLE_BEST:  # other kinds first: answer them right, and see so
        answer_correctly(page, first, artifacts)
        expect(page.locator(".feedback").get_by_role("heading", name="Correct")).to_be_visible()
        page.get_by_role("link", name="Next question").click()
        first = current_question(page, order)
    number = order.index(first) + 1
    wrong = first.options.filter(is_correct=False).first()
    page.get_by_label(wrong.text, exact=True).check()
    page.get_by_role("button", name="Answer").click()

    feedback = page.locator(".feedback")
    expect(feedback.get_by_role("heading", name="Incorrect")).to_be_visible()
    expect(feedback.locator(".option-chosen")).to_contain_text(wrong.rationale)
    expect(feedback.locator(".option-correct")).to_contain_text(first.options.get(is_correct=True).rationale)
    page.screenshot(path=artifacts / "quiz-practice-feedback.png", full_page=True)

    page.get_by_role("link", name="Next question").click()
    expect(page.locator("h1")).to_have_text(f"Question {number + 1} of {quiz.questions.count()}")
    page.close()
