"""A phone (390 × 844): no reader page wider than the screen for any role, and a viewer whose controls a finger
can hit, whose toolbar folds, and which writes what a resident reads on a bone scan and a CT."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from cases import services
from cases.models import Case

from .conftest import answer_gates, log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
READER_PAGES = [
    "/",
    "/cases/",
    "/my-cases/",
    "/cases/tf101/",
    "/cases/tf102/",
    "/cases/tf103/",
    "/cases/tf101/viewer/",
    "/topics/",
    "/topics/heterotopic-ossification/",
    "/quizzes/",
    "/quizzes/progress/",
    "/quizzes/review/",
    "/notifications/",
    "/accounts/profile/",
    "/cases/tf101/discussion/",
    "/cases/?q=hip",
    "/collections/",
    "/collections/pelvis-and-hips-work-ups/",
]
LOGGED_IN_ONLY = ("/quizzes/", "/notifications/", "/accounts/", "/collections/")
GATED_PAGES = ["/cases/tf101/", "/cases/tf102/"]  # a fresh resident's: the question after the first stages
# What a finger hits in a gate's form: each option's whole row (its label), a text box, the button.
GATE_CONTROLS = "label.gate-option, textarea, input[type=text], button"
# Visible controls of the viewer lower than a finger's 44 px (WCAG 2.5.5).
SMALL_CONTROLS = """root => Array.from(root.querySelectorAll('button, a, select, input'))
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)
  .filter(e => e.getBoundingClientRect().height < 44)
  .map(e => (e.textContent || e.getAttribute('aria-label') || e.className).trim() + ' ' +
             Math.round(e.getBoundingClientRect().height) + 'px')"""


@pytest.fixture
def anonymous_browsing(settings):
    settings.TEACHINGFILE_ANONYMOUS_BROWSING = True


def test_no_reader_page_is_wider_than_a_phone(browser, demo_site, anonymous_browsing, artifacts):
    """Each role in its own context, every case revealed for those who log in: the answer is the widest part.
    Before that, the resident meets the gates of tf101 and tf102: their screens fit too, and a finger hits
    every control of the gate's form."""
    wide, small = {}, {}
    for role in ("anonymous", "resident", "faculty", "editor"):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        pages = READER_PAGES
        if role == "anonymous":
            pages = [path for path in READER_PAGES if not path.startswith(LOGGED_IN_ONLY)]
        else:
            user = get_user_model().objects.get(username=role)
            if role == "resident":
                log_in(page, demo_site, role, "/")
                for path in GATED_PAGES:
                    page.goto(demo_site + path)
                    gate = page.locator("form[data-gate]")
                    expect(gate).to_be_visible()
                    if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
                        wide[role, path] = page.evaluate("document.documentElement.scrollWidth")
                    small[path] = gate.evaluate(SMALL_CONTROLS.replace("button, a, select, input", GATE_CONTROLS))
                    gate.screenshot(path=artifacts / f"gate-phone-{path.strip('/').replace('/', '-')}.png")
            for case in Case.objects.all():
                services.case_reveal(case=case, user=user, session_key="", committed_answer="a long committed answer")
            log_in(page, demo_site, role, "/")
        for path in pages:
            page.goto(demo_site + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[role, path] = width
        context.close()
    assert wide == {}
    assert small == dict.fromkeys(GATED_PAGES, [])


def test_phone_viewer_controls_fit_a_finger_and_the_toolbar_folds(browser, demo_site):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = script_errors(page)
    log_in(page, demo_site, "resident", "/cases/tf102/viewer/")
    viewer = page.locator(".viewer")
    expect(page.locator(".viewer-counter").first).to_have_text("1 / 30")  # the flow opens at the injection
    expect(page.locator(".viewer-view").first).to_have_text("ANT")
    expect(page.locator(".viewer-time").first).to_have_text("0 s after injection")
    toolbar = page.locator(".viewer-toolbar")
    assert toolbar.bounding_box()["height"] < 60, "folded, the toolbar is one row"
    assert viewer.evaluate(SMALL_CONTROLS) == []
    page.get_by_role("button", name="Tools").click()
    expect(page.get_by_role("button", name="Invert")).to_be_visible()
    assert viewer.evaluate(SMALL_CONTROLS) == []
    context.close()
    assert errors == []


def test_ct_opens_in_its_bone_window_with_orientation_letters(browser, demo_site):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = script_errors(page)
    log_in(page, demo_site, "resident", "/cases/tf101/")
    answer_gates(page)
    page.goto(demo_site + "/cases/tf101/viewer/")
    page.locator(".viewer-series").first.select_option(label="2. CT · Axial · Bone window (64)")
    expect(page.locator(".viewer-preset").first.locator("option:checked")).to_have_text("Bone")
    expect(page.locator(".viewer-window").first).to_have_text("W 1800 L 400")
    letters = [page.locator(f".viewer-orient-{edge}").first.inner_text() for edge in ("left", "right", "top", "bottom")]
    assert letters == ["R", "L", "A", "P"]
    expect(page.locator(".viewer-position").first).to_have_text("F 327.0 mm")
    page.close()
    assert errors == []
