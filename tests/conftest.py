"""The database of the site's own processes, for the tests that run it as ``make run`` does."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import psycopg
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _postgres_name(configured: str, purpose: str) -> str:
    """A database name of its own: per purpose and, as pytest-django does for the test database, per xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"test_{dj_database_url.parse(configured)['NAME']}_{purpose}{'_' + worker if worker else ''}"


def _postgres_create(configured: str, name: str, *, template: str | None = None) -> str:
    admin = urlsplit(configured)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return urlsplit(configured)._replace(path=f"/{name}").geturl()


def _postgres_drop(configured: str, name: str) -> None:
    admin = urlsplit(configured)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _configured() -> str:
    """The PostgreSQL the tests use, or "" when they use SQLite."""
    configured = os.environ.get("DATABASE_URL", "")
    return configured if configured.startswith(("postgres://", "postgresql://")) else ""


@pytest.fixture(scope="session")
def migrated_database_url(tmp_path_factory) -> str:
    """A database migrated once by ``manage.py migrate``, as ``make run`` does; database_url copies it per test."""
    configured = _configured()
    folder = tmp_path_factory.mktemp("migrated")
    if configured:
        name = _postgres_name(configured, "migrated")
        url = _postgres_create(configured, name)
    else:
        url = f"sqlite:///{folder / 'site.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.processes",
        "TEACHINGFILE_MEDIA_ROOT": str(folder / "media"),
    }
    migrated = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"], env=env, cwd=ROOT, capture_output=True
    )
    assert migrated.returncode == 0, migrated.stderr.decode()
    yield url
    if configured:
        _postgres_drop(configured, name)


@pytest.fixture
def database_url(migrated_database_url, tmp_path):
    """A migrated database for the site alone: a SQLite file, or a PostgreSQL database when the tests use one."""
    configured = _configured()
    if not configured:
        template = Path(dj_database_url.parse(migrated_database_url)["NAME"])
        for path in template.parent.glob(template.name + "*"):  # with its write-ahead log, if one is left
            shutil.copy(path, tmp_path / path.name)
        yield f"sqlite:///{tmp_path / template.name}"
        return
    name = _postgres_name(configured, "site")
    yield _postgres_create(configured, name, template=_postgres_name(configured, "migrated"))
    _postgres_drop(configured, name)
