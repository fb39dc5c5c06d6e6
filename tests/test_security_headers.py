"""Security headers on every page, and templates that keep the Content-Security-Policy workable."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:", "blob:"},
    "worker-src": {"'self'", "blob:"},
    "connect-src": {"'self'"},
    "font-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}
PAGES = [
    ("anonymous", reverse("login")),
    ("resident", reverse("cases:case-detail", args=["tf102"])),
    ("editor", reverse("admin:index")),
]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
# An attribute inside a tag: on...= handlers run inline script, style="" is an inline style.
INLINE_ATTRIBUTE = re.compile(r"<[a-z][^>]*?\s(on[a-z]+|style)\s*=", re.IGNORECASE)
TEMPLATES = sorted((settings.BASE_DIR / "templates").rglob("*.html"))


def parse_policy(header: str) -> dict[str, set[str]]:
    """Return the directives of a Content-Security-Policy header with their sources."""
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


@pytest.fixture
def get_page(client, resident, editor):
    def get(role: str, url: str):
        users = {"resident": resident, "editor": editor}
        if role in users:
            client.force_login(users[role])
        response = client.get(url)
        assert response.status_code == 200
        return response

    return get


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url"), PAGES)
def test_pages_send_the_content_security_policy(get_page, role, url):
    assert parse_policy(get_page(role, url)["Content-Security-Policy"]) == POLICY


@pytest.mark.django_db
def test_script_src_allows_no_inline_script_and_no_eval(get_page):
    policy = parse_policy(get_page("anonymous", reverse("login"))["Content-Security-Policy"])
    for directive in ("script-src", "default-src"):
        assert not policy[directive] & {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "*"}


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url"), PAGES)
def test_pages_send_the_other_security_headers(get_page, role, url):
    response = get_page(role, url)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_templates_found():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_template_has_no_inline_script_or_style(template):
    """Scripts and styles come from files: the policy refuses anything inline, so the page would break."""
    text = template.read_text()
    for attributes in SCRIPT_TAG.findall(text):
        assert re.search(r"\ssrc=", attributes) or re.search(r"""\stype=["']application/json["']""", attributes), (
            f"inline <script{attributes}> in {template.name}: move it to a file under static/js"
        )
    assert not INLINE_ATTRIBUTE.search(text), f"{INLINE_ATTRIBUTE.search(text).group(0)!r} in {template.name}"
    assert not re.search(r"<style\b", text, re.IGNORECASE), f"<style> in {template.name}: use a file under static/css"
    assert "javascript:" not in text.lower()
