"""Site-wide guards: migrations, deploy checks, one heading per page, demo content loads once."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from cases.models import Case, Image, Topic


@pytest.mark.django_db
def test_no_pending_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_deploy_check_is_clean_with_production_settings():
    # The browser tests' async-unsafe switch is set in this process; a real deployment has no such thing.
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.prod",
        "DJANGO_SECRET_KEY": "a-long-random-production-secret-for-the-check-0123456789abcdef",
        "DJANGO_ALLOWED_HOSTS": "teaching.example.org",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_secrets():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env["DJANGO_SETTINGS_MODULE"] = "teachingfile.settings.prod"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_demo_content_is_loaded_once(client):
    counts = (Topic.objects.count(), Case.objects.count(), Image.objects.count())
    call_command("load_demo", "--accounts", verbosity=0)
    assert (Topic.objects.count(), Case.objects.count(), Image.objects.count()) == counts
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
