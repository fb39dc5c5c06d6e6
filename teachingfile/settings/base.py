"""Settings shared by every environment; secrets and hosts come from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from .media import media_delivery, media_origin, media_signing_key, media_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")

# Our own apps: installed, and given an INFO logger, from this one list so a new app cannot be forgotten.
# "demo" (the demonstration content and its load_demo commands) is for development and tests: prod.py leaves it out.
PROJECT_APPS = [
    "accounts",
    "cases",
    "ingest",
    "quizzes",
    "discussions",
    "collections_app",
    "packages",
    "health",
    "demo",
]

INSTALLED_APPS = [
    # The admin without its autodiscovery at start-up: the root URLconf runs it (teachingfile/urls.py), so a
    # management command or task worker that serves no page does not import every admin module and view
    # (30 % of a command's start-up; docs/decisions.md, "Ingest speed against the peers").
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_ratelimit",
    "csp",
    "simple_history",
    *PROJECT_APPS,
    # After ours: the first app wins a command's name, and ingest's db_worker adds the import lease check to theirs.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: load balancers' /healthz and /readyz, whatever host or scheme they ask with (health/middleware.py).
    "health.middleware.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # An ETag on every page, and 304 Not Modified when the browser already has it (docs/decisions.md, "Pages
    # from the cache"): the ETag is the page's own digest, so it names nothing the page does not show.
    "django.middleware.http.ConditionalGetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a reader's request that may write makes their kept pages stale (cases/reader_pages.py).
    "cases.reader_pages.ReaderWritesMiddleware",
    # After authentication: it records who made each change to a case in its history.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "teachingfile.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "discussions.context_processors.notifications",
                "accounts.context_processors.signup",
            ],
        },
    },
]

WSGI_APPLICATION = "teachingfile.wsgi.application"

# SQLite needs no set-up; DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task worker write to one file (docs/decisions.md, "SQLite under concurrent use").
    # WAL lets pages read while one writer writes; NORMAL syncing is safe with WAL (a power cut may lose the
    # last commits, never the file). BEGIN IMMEDIATE takes the write lock when a transaction starts, so a
    # writer waits its turn (up to the timeout) instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "timeout": int(os.environ.get("TEACHINGFILE_SQLITE_TIMEOUT", 20)),
        "transaction_mode": "IMMEDIATE",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A form's choices are read with .iterator(), which on PostgreSQL opens a server-side cursor: DECLARE, FETCH and
    # CLOSE for the reader's few lists on every case page (0.5 ms of 11, docs/benchmarks.md). Nothing here iterates
    # a result too large for memory, and a transaction-pooling PgBouncer needs them off anyway.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes refuses locked-out logins before the password is checked; the second backend loads the profile with the
# user of each request (the header shows the display name).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.ProfileModelBackend"]
# Five wrong passwords pause logging in to that account from that address, and from that address to any account,
# for 15 minutes: slow enough to stop guessing, short enough that a resident who mistyped is back before the next
# case conference. Not the account from everywhere: anyone who knows a username could then keep it locked.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
# Keep failed attempts only (what the lock needs), not an address log of every successful login.
AXES_DISABLE_ACCESS_LOG = True
# Password-reset e-mails and sign-ups are counted per address and per client (accounts/limits.py) in the cache.
# One process shares its memory; production, with several, uses Redis (prod.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_IP_META_KEY = "accounts.limits.client_address"
# models.W040: the presented-modality index carries non-key columns (INCLUDE) for PostgreSQL's index-only scans;
# SQLite, the embedded default, builds it without them, which is all the warning says.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001", "models.W040"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Browsers ask for /favicon.ico whatever the page links: whitenoise serves this folder at the site root.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# Media go through the storage API so a deployment can swap in object storage.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("TEACHINGFILE_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {"BACKEND": "teachingfile.storage.StaticFilesStorage"},
}
# Images pass the permission check in Django, then the front server sends the file (docs/deployment.md): nginx's
# X-Accel-Redirect to this internal location prefix (e.g. "/protected-media/"), or Apache's X-Sendfile (mod_xsendfile)
# with the file's path. Empty and off: Django streams the file itself.
TEACHINGFILE_MEDIA_ACCEL_REDIRECT = os.environ.get("TEACHINGFILE_MEDIA_ACCEL_REDIRECT", "")
TEACHINGFILE_MEDIA_X_SENDFILE = env_bool("TEACHINGFILE_MEDIA_X_SENDFILE", False)

# The images a page shows may be addressed by short-lived signed URLs that nginx checks itself (secure_link), made
# only for a reader the page already let see them; the bytes then never pass through Django (docs/deployment.md,
# cases/signed_media.py). Off without a key; a URL lives one to two windows of TEACHINGFILE_MEDIA_SIGNED_SECONDS.
TEACHINGFILE_MEDIA_SIGNING_KEY = media_signing_key(os.environ)
TEACHINGFILE_MEDIA_SIGNED_PREFIX = os.environ.get("TEACHINGFILE_MEDIA_SIGNED_PREFIX", "/signed-media/")
TEACHINGFILE_MEDIA_SIGNED_SECONDS = int(os.environ.get("TEACHINGFILE_MEDIA_SIGNED_SECONDS", 120))

# After the permission check an image is streamed by this process ("proxy"), or, on object storage only, the
# reader is sent to a signed URL that expires after TEACHINGFILE_MEDIA_URL_SECONDS ("redirect"): docs/storage.md.
TEACHINGFILE_MEDIA_DELIVERY = media_delivery(os.environ)
TEACHINGFILE_MEDIA_URL_SECONDS = int(os.environ.get("TEACHINGFILE_MEDIA_URL_SECONDS", 60))

# Uploads above this are refused before Pillow sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A CT series exported file by file easily has hundreds of files.
DATA_UPLOAD_MAX_NUMBER_FILES = int(os.environ.get("TEACHINGFILE_MAX_UPLOAD_FILES", 5000))
TEACHINGFILE_MAX_UPLOAD_BYTES = int(os.environ.get("TEACHINGFILE_MAX_UPLOAD_BYTES", 40 * 1024 * 1024))
# Larger images are refused as possible decompression bombs (Pillow's check, made strict).
TEACHINGFILE_MAX_IMAGE_PIXELS = int(os.environ.get("TEACHINGFILE_MAX_IMAGE_PIXELS", 64_000_000))
# DICOM import limits, sized for real studies and a worker's memory (a file costs about twice its size there):
# see docs/decisions.md, "Junk refused early, uploads streamed".
TEACHINGFILE_MAX_DICOM_FILE_BYTES = int(os.environ.get("TEACHINGFILE_MAX_DICOM_FILE_BYTES", 128 * 1024**2))
TEACHINGFILE_MAX_ARCHIVE_BYTES = int(os.environ.get("TEACHINGFILE_MAX_ARCHIVE_BYTES", 2 * 1024**3))
TEACHINGFILE_MAX_ARCHIVE_FILES = int(os.environ.get("TEACHINGFILE_MAX_ARCHIVE_FILES", 20_000))
TEACHINGFILE_MAX_DICOM_FRAME_PIXELS = int(os.environ.get("TEACHINGFILE_MAX_DICOM_FRAME_PIXELS", 32_000_000))

# Modalities a site knows to carry burned-in text, held for review like ultrasound (e.g. "NM,PT" where the
# nuclear medicine workstation prints names on its pages); comma-separated.
TEACHINGFILE_BURNED_IN_MODALITIES = frozenset(
    item.strip().upper() for item in os.environ.get("TEACHINGFILE_BURNED_IN_MODALITIES", "").split(",") if item.strip()
)

# Worker processes for reading, de-identifying and rendering DICOM (command and background task).
TEACHINGFILE_INGEST_WORKERS = int(os.environ.get("TEACHINGFILE_INGEST_WORKERS", min(os.cpu_count() or 1, 4)))
# Raw DICOM uploads wait here (never under MEDIA_ROOT, never served, files 0600) until the import task has
# de-identified them; the web server and the task worker must share this folder.
TEACHINGFILE_UPLOAD_SPOOL = Path(os.environ.get("TEACHINGFILE_UPLOAD_SPOOL", BASE_DIR / "spool"))
# A running import writes a heartbeat every few seconds; one silent for this long is taken as dead (its
# process was killed) and is retried or closed by the lease check.
TEACHINGFILE_INGEST_LEASE_SECONDS = float(os.environ.get("TEACHINGFILE_INGEST_LEASE_SECONDS", 30))

# The DICOM receiver (manage.py receive_dicom, docs/receiver.md): where it listens, and the limits that keep one
# sender from filling the disk or the workers. A study becomes a draft when its association is released and no
# object of it has arrived for the quiet period (a PACS may send each series in an association of its own).
TEACHINGFILE_RECEIVER_HOST = os.environ.get("TEACHINGFILE_RECEIVER_HOST", "127.0.0.1")
TEACHINGFILE_RECEIVER_PORT = int(os.environ.get("TEACHINGFILE_RECEIVER_PORT", 11112))
TEACHINGFILE_RECEIVER_QUIET_SECONDS = float(os.environ.get("TEACHINGFILE_RECEIVER_QUIET_SECONDS", 10))
TEACHINGFILE_RECEIVER_MAX_ASSOCIATIONS = int(os.environ.get("TEACHINGFILE_RECEIVER_MAX_ASSOCIATIONS", 4))
TEACHINGFILE_RECEIVER_MAX_ASSOCIATION_BYTES = int(
    os.environ.get("TEACHINGFILE_RECEIVER_MAX_ASSOCIATION_BYTES", 2 * 1024**3)
)
TEACHINGFILE_RECEIVER_MAX_DAY_BYTES = int(os.environ.get("TEACHINGFILE_RECEIVER_MAX_DAY_BYTES", 10 * 1024**3))
TEACHINGFILE_RECEIVER_MAX_DAY_OBJECTS = int(os.environ.get("TEACHINGFILE_RECEIVER_MAX_DAY_OBJECTS", 20_000))
# TLS, off unless a certificate is given: the receiver's certificate and key (PEM), and optionally the CA whose
# client certificates it requires (mutual TLS).
TEACHINGFILE_RECEIVER_TLS_CERT = os.environ.get("TEACHINGFILE_RECEIVER_TLS_CERT", "")
TEACHINGFILE_RECEIVER_TLS_KEY = os.environ.get("TEACHINGFILE_RECEIVER_TLS_KEY", "")
TEACHINGFILE_RECEIVER_TLS_CA = os.environ.get("TEACHINGFILE_RECEIVER_TLS_CA", "")

# Off by default: a hospital decides to open cases to visitors who are not logged in.
TEACHINGFILE_ANONYMOUS_BROWSING = env_bool("TEACHINGFILE_ANONYMOUS_BROWSING", False)
# Off by default: accounts come from an editor's invitation unless the site chooses to let anyone sign up.
TEACHINGFILE_OPEN_SIGNUP = env_bool("TEACHINGFILE_OPEN_SIGNUP", False)
TEACHINGFILE_CASES_PER_PAGE = 24

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Messages may name an uploaded file (names can carry PHI): keep them in the signed cookie, never in the
# session table, even when they are many.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# Django's sessions in the database, read by SQL compiled once (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Every script is a file under static/ (no inline <script>, no on...= handlers, no eval), so an injected
# script cannot run; tests/test_security_headers.py keeps the templates that way. Styles are files too
# (style="" attributes are refused). data: and blob: URLs are made by the page itself, never fetched from
# another site; the viewer's Web Workers run static/js/viewer-inflate.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *media_origin(os.environ)],
        "worker-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The libraries that parse uploaded DICOM quote header values in their messages ("Invalid value for VR IS:
# 'MRN8675309'"), and so may any warning (Django captures warnings into the "py.warnings" logger). Their records
# go to a handler of their own that replaces the text with a fixed one, and stop there (docs/decisions.md,
# "Refusal reasons never quote the file").
# pynetdicom logs received data sets and A-ASSOCIATE fields when it fails (the receiver logs what happens).
WITHHELD_LOGGERS = ["pydicom", "pylibjpeg", "openjpeg", "libjpeg", "pynetdicom", "py.warnings"]

LOGGING_CONFIG = "teachingfile.logs.configure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "filters": {"withheld": {"()": "imaging.withheld.WithheldMessage"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "withheld": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["withheld"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Our apps' INFO lines (refused input, moderation, rate limits) are for the operator; they reach the console
    # through the root logger, so nothing is configured twice. Libraries stay at WARNING.
    "loggers": {
        **{name: {"level": "INFO"} for name in [*PROJECT_APPS, "imaging", "teachingfile"]},
        **{name: {"handlers": ["withheld"], "level": "WARNING", "propagate": False} for name in WITHHELD_LOGGERS},
    },
}
