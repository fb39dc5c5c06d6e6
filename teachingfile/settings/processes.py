"""The site as ``make run`` starts it, for the tests that run its own processes (server, task worker, commands).

Only the password hasher differs: each sign-up and log-in would otherwise spend half a second of CPU on
PBKDF2, and those tests are about the processes working together, not about hashing passwords.
"""

from .dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each process its own cache in memory, as before make run's processes shared one on disk (dev.py): these tests run
# side by side on databases of their own, and one folder on disk would be shared between them and from run to run.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
