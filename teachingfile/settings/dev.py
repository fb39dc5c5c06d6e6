"""Local development: debug on, a fixed throwaway key, localhost only."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = True
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
TEACHINGFILE_ANONYMOUS_BROWSING = env_bool("TEACHINGFILE_ANONYMOUS_BROWSING", False)
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405 - whitenoise serves from the finders in debug but wants the folder
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# `make run` starts three processes (the web server, the task worker, the DICOM receiver), and what the worker or
# the receiver writes must make the web server's kept pages stale: the cache is one they share, files on this
# machine (in production, Redis). Each process's own memory would keep a page the others' writes cannot reach.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(BASE_DIR / ".cache" / "django"),  # noqa: F405
        # Room for every kept page and card of a department's evaluation before a third are culled at random (a
        # culled version is made anew: what was kept under it goes stale, nothing worse).
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    }
}
