"""Playwright driving Debian's Chromium against the live test server."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API keeps an event loop in this thread; the ORM calls made by
# the tests and the database teardown are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _pages_closed(request):
    """Close what a test left open in the browser. An open page keeps its connections to the live server alive,
    and with them the server's request threads and their database connections, which then keep the test
    database from being dropped at the end of the run (PostgreSQL)."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()


@pytest.fixture
def demo_site(live_server, demo_snapshot):
    """The live server with the demo content and accounts (the database is emptied between browser tests)."""
    demo_snapshot.restore()
    return live_server.url


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def log_in(page, base_url: str, username: str, next_path: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    # Wait for the page after the login to load: its scripts bind the clicks the tests make next.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Log in").click()


def script_errors(page) -> list[str]:
    """Collect what would break the page's modules silently: an uncaught error, a script the policy or the
    server refused, a static file that did not load. The test asserts the list is still empty at its end."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    page.on(
        "response",
        lambda response: (
            # 304: a script fetched again (a page written in place of another) and not modified since.
            "/static/" in response.url
            and not (response.ok or response.status == 304)
            and errors.append(f"{response.status}: {response.url}")
        ),
    )
    return errors


def answer_gates(page, *, impression: str = "New bone in the soft tissues", differential: str = "myositis ossificans"):
    """Answer the case page's gates one by one, as a reader would, until the reveal form shows: the first option
    of a "what next?" gate, ``impression`` or ``differential`` for the others."""
    while page.locator("form[data-gate]").count():
        form = page.locator("form[data-gate]")
        if form.locator("input[type=radio]").count():
            form.locator("input[type=radio]").first.check()
        elif form.locator("textarea").count():
            form.locator("textarea").fill(impression)
        else:
            form.get_by_label("Differential 1").fill(differential)
        with page.expect_navigation(wait_until="load"):
            form.get_by_role("button", name="Answer and go on").click()
