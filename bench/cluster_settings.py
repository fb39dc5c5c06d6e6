"""Production settings as ``bench/cluster.py`` runs them: plain HTTP on the loopback, no collected static files.

Everything else is ``teachingfile.settings.prod``, read from the environment the bench sets (PostgreSQL, Redis,
the S3 bucket); only what needs TLS or ``collectstatic`` is turned off, and passwords are hashed cheaply.
"""

from teachingfile.settings.prod import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
