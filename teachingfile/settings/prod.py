"""Production: refuses to start without its secrets; HTTPS everywhere."""

import os

from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

from .base import *  # noqa: F403
from .base import env_bool, env_list

for required in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"Set the {required} environment variable for production.")

# The demonstration content (synthetic studies, the load_demo commands) has no place on a real site.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "demo"]  # noqa: F405

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The login lock counts failures per client address. Behind the proxy every request comes from the proxy's
# address, so read X-Forwarded-For: with N proxies that each append to it, the client is the N-th address from
# the right (whatever a client puts on the left is forged).
TEACHINGFILE_TRUSTED_PROXIES = int(os.environ.get("TEACHINGFILE_TRUSTED_PROXIES", 1))
if TEACHINGFILE_TRUSTED_PROXIES:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = TEACHINGFILE_TRUSTED_PROXIES - 1
    AXES_IPWARE_PROXY_ORDER = "left-most"
    IPWARE_STRICT = False  # a client's own proxy may add addresses on the left; still take ours from the right
# Several server processes must share the counts of password resets and sign-ups: Django's Redis cache, whose
# increments are atomic (django-ratelimit lists only django-redis as supported, hence its warning is silenced).
# While Redis is down those requests are refused politely (accounts/limits.py): a second's timeout and one retry
# without back-off keep that refusal quick (redis-py's default retries took 0.4 s on a closed port, and a host
# that drops packets would hold a worker for minutes).
CACHES = {
    "default": {
        "BACKEND": "teachingfile.redis_cache.ReusedClientRedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 1)},
    }
}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# Sessions in the database alone (accounts/sessions.py: Django's, read by SQL compiled once), not cached_db: with
# Redis down, cached_db's read writes the session back to the cache unguarded (a 500 on every page of a logged-in
# reader), and a logout that cannot delete the cached copy would leave a session Redis could revive
# (docs/decisions.md, "Pages while Redis is down").
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31_536_000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "teachingfile@localhost")
# Password resets and invitations depend on e-mail; the defaults suit a relay on the same host.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
