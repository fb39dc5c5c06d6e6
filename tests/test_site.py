"""Site-wide guards: migrations, deploy checks, one heading per page, demo content loads once."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

from cases.models import Case, Image, Topic
from collections_app.models import CollectionEntry


@pytest.mark.django_db
def test_no_pending_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def production_environment() -> dict[str, str]:
    """Return this process's environment with the production settings and their required variables."""
    # The browser tests' async-unsafe switch is set in this process; a real deployment has no such thing.
    return {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.prod",
        "DJANGO_SECRET_KEY": "a-long-random-production-secret-for-the-check-0123456789abcdef",
        "DJANGO_ALLOWED_HOSTS": "teaching.example.org",
        "DATABASE_URL": "sqlite:///:memory:",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }


def test_deploy_check_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_leave_the_demo_content_out():
    script = "from django.apps import apps; print(apps.is_installed('demo'))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=settings.BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert apps.is_installed("demo")  # development and tests have it


def test_production_settings_keep_the_security_headers_and_https():
    names = [
        "CONTENT_SECURITY_POLICY",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY",
        "X_FRAME_OPTIONS",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
    ]
    script = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {names}}}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=settings.BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    production = json.loads(result.stdout.strip().splitlines()[-1])
    assert production["CONTENT_SECURITY_POLICY"] == settings.CONTENT_SECURITY_POLICY
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["SECURE_REFERRER_POLICY"] == "same-origin"
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"] is True


def test_production_settings_refuse_to_start_without_secrets():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_"))}
    env["DJANGO_SETTINGS_MODULE"] = "teachingfile.settings.prod"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_demo_content_is_loaded_once(client):
    counts = (Topic.objects.count(), Case.objects.count(), Image.objects.count(), CollectionEntry.objects.count())
    call_command("load_demo", "--accounts", verbosity=0)
    after = (Topic.objects.count(), Case.objects.count(), Image.objects.count(), CollectionEntry.objects.count())
    assert after == counts
    assert counts[3] == 3, "the demo collection holds the three demo cases"
    assert set(Case.objects.values_list("number", flat=True)) >= {"tf101", "tf102", "tf103"}


@pytest.mark.django_db
def test_demo_images_are_labelled_synthetic():
    for image in Image.objects.filter(series__case__number__in=["tf101", "tf102", "tf103"]):
        assert "synthetic demonstration image" in image.caption.lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("cases:home"),
        reverse("cases:case-list"),
        reverse("cases:case-done-list"),
        reverse("cases:topic-list"),
        reverse("cases:topic-detail", args=["heterotopic-ossification"]),
        reverse("cases:case-detail", args=["tf102"]),
        reverse("cases:case-detail", args=["tf102"]) + "?collection=pelvis-and-hips-work-ups",
        reverse("collections:collection-list"),
        reverse("collections:collection-detail", args=["pelvis-and-hips-work-ups"]),
    ],
)
def test_every_page_has_one_h1_and_a_title(client, resident, url):
    client.force_login(resident)
    body = client.get(url).content.decode()
    assert len(re.findall(r"<h1[ >]", body)) == 1
    assert re.search(r"<title>[^<]+</title>", body)


def test_deidentification_table_in_docs_is_the_generated_one():
    import io

    out = io.StringIO()
    call_command("deid_table", stdout=out)
    documented = (settings.BASE_DIR / "docs" / "deidentification.md").read_text(encoding="utf-8")
    assert out.getvalue().strip() in documented, "regenerate docs/deidentification.md with manage.py deid_table"


@pytest.mark.django_db
def test_favicon_is_served_at_the_site_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", [reverse("cases:home"), reverse("admin:login")])
def test_site_and_authoring_pages_link_the_favicon(client, url):
    body = client.get(url, follow=True).content.decode()
    link = re.search(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', body)
    assert link and finders.find(link[1])
