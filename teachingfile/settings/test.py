"""Tests: fast hashing, in-memory e-mail, media in a temporary folder."""

import atexit
import shutil
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _temporary_folder(prefix: str) -> Path:
    """A folder of this process's own, deleted when the process ends (each xdist worker makes its own)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


MEDIA_ROOT = _temporary_folder("teachingfile-test-media-")
TEACHINGFILE_UPLOAD_SPOOL = _temporary_folder("teachingfile-test-spool-")
# No heartbeat beats within a test: its thread's connection cannot see rows of the test's open transaction.
# Tests of the lease set a short one (and commit), as do the tests that kill real processes.
TEACHINGFILE_INGEST_LEASE_SECONDS = 3600
STATIC_ROOT = _temporary_folder("teachingfile-test-static-")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Hashed static names need collectstatic; tests serve from the finders instead.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# One process keeps tests simple; tests of the parallel path override it.
TEACHINGFILE_INGEST_WORKERS = 1
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # The same backend, emptied between tests by DELETE: TRUNCATE costs up to a second a test (tests/postgresql).
    DATABASES["default"]["ENGINE"] = "tests.postgresql"  # noqa: F405
