"""A logged-in reader's pages, rendered once and served again until something they show may have changed.

A reader's page is kept whole, per reader, with everything that decides what it shows (docs/decisions.md, "A
reader's pages from the cache"): in its key, the reader, their session (held-for-review cases, the login
itself), the day (the case of the day), the host, path and query and the signing window of the image URLs it
holds; beside it in its entry, the versions it was rendered under, served again only while all four still hold:

- the content version (``cases.page_cache``: cases, stages, images, gates, topics…) and the permissions version
  (``accounts.backends``: groups and permissions);
- the **reader's version**, replaced whenever a row of theirs changes (their reveals, gate answers, quiz
  attempts and responses, review items, notifications, their user row) and after every request of theirs that
  is not a GET or HEAD, whatever it wrote;
- the **site's activity version**, replaced whenever any other row changes (comments, flags, collections,
  quizzes, profiles, invitations…): a model this module does not name counts as shared by everyone, so a model
  added later invalidates every reader's pages rather than none.

A page is never kept when the response sets a cookie, changes the session, shows a message or says
``no-store`` (a timed quiz's clock), and a request carrying messages is always rendered. Each copy served gets
the reader's own CSRF token in the kept page's slots, as for a visitor's page.
"""

import functools

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from accounts.backends import VERSION_KEY as PERMISSIONS_KEY
from teachingfile import cache_reads

from . import page_cache

ACTIVITY_KEY = "pages:activity-version"
READER_KEY = "pages:reader-version:{}"
# The rows that only their own reader's pages show, and the path from a row to its reader. A cascade from one of
# them reaches only rows of the same reader (``_told_by_origin`` counts on it): a row of one reader pointing at
# another's (a notification's actor, say) belongs with the shared models instead.
READER_ROWS = {
    "cases.Reveal": ("user",),
    "cases.RevealDifferential": ("reveal", "user"),
    "cases.GateAnswer": ("user",),
    "quizzes.Attempt": ("user",),
    "quizzes.Response": ("attempt", "user"),
    "quizzes.ReviewItem": ("user",),
    "discussions.Notification": ("user",),
}
# Rows no reader's page shows, or whose own version is already in every key (auth: groups and permissions; its
# users are the readers' rows).
NOT_SHOWN_APPS = {"admin", "auth", "axes", "contenttypes", "sessions", "django_tasks_database", "ingest"}
# What a kept page may not be served without: the request methods that cannot write.
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# Whose pages a row's change makes stale: its reader's, or everyone's (the content version or the site's activity).
READER, EVERYONE = "reader", "everyone"
_scopes: dict[type, str] = {}


def reader_changed(user_id: int | None) -> None:
    """Make this reader's kept pages stale: now, and once more when the writing transaction commits."""
    if user_id is not None:
        _replace_now_and_at_commit(READER_KEY.format(user_id))


def activity_changed(**_signal) -> None:
    """Make every reader's kept pages stale: now, and once more when the writing transaction commits."""
    _replace_now_and_at_commit(ACTIVITY_KEY)


def _replace_now_and_at_commit(key: str) -> None:
    page_cache.replace_now_and_at_commit(key, functools.partial(cache_reads.replace_version, key))


def _row_of_reader(path: tuple[str, ...]):
    def changed(instance, origin=None, **_signal) -> None:
        if not _told_by_origin(instance, origin):
            reader_changed(_reader_of(instance, path))

    return changed


def _reader_of(row, path: tuple[str, ...]) -> int | None:
    """Return the id of the reader a row belongs to: its own field, or its parent's (the one loaded with it, else
    read; a parent deleted first has no reader left to tell)."""
    field = row._meta.get_field(path[0])
    if len(path) == 1:
        return getattr(row, field.attname)
    owner = field.remote_field.model._meta.get_field(path[1]).attname
    if field.is_cached(row):
        return getattr(field.get_cached_value(row), owner)
    parents = field.remote_field.model._default_manager.filter(pk=getattr(row, field.attname))
    return parents.values_list(owner, flat=True).first()


def _user_changed(instance, **_signal) -> None:
    reader_changed(instance.pk)


def _shared_row_changed(instance, origin=None, **_signal) -> None:
    if not _told_by_origin(instance, origin):
        activity_changed()


def _told_by_origin(row, origin) -> bool:
    """Say whether a row deleted by a cascade needs no word of its own: the row whose deletion began it makes the
    same pages stale or more (a reader's row goes with its reader or its parent; anything goes with a shared
    row). Deleting a case with a thousand reveals so costs no query and no cache write per reveal."""
    if origin is None:
        return False
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if origin_model is type(row):
        return False
    origin_scope = _scopes.get(origin_model)
    return origin_scope == EVERYONE or (origin_scope == READER and _scopes.get(type(row)) == READER)


def connect_signals(apps) -> None:
    """Report every save and delete of a row some reader's page may show, and every change of a shared row's
    many-to-many links (called by the cases app when ready)."""
    content = {apps.get_model(label) for label in page_cache.CONTENT_MODELS}
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    for model in apps.get_models():
        label = model._meta.label
        if model in content:
            _scopes[model] = EVERYONE  # the content version's signals (page_cache) tell
            continue
        if label in READER_ROWS:
            _scopes[model], receiver = READER, _row_of_reader(READER_ROWS[label])
        elif model is user_model:
            _scopes[model], receiver = READER, _user_changed
        elif model._meta.app_label in NOT_SHOWN_APPS or issubclass(model, HistoricalChanges):
            continue
        else:
            _scopes[model], receiver = EVERYONE, _shared_row_changed
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                m2m_changed.connect(activity_changed, sender=through, dispatch_uid=f"reader-pages-m2m-{through}")
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"reader-pages-save-{label}")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"reader-pages-delete-{label}")


class ReaderWritesMiddleware:
    """After any request of a logged-in reader that may write (any but ``SAFE_METHODS``), make their pages stale.

    Writes that send no signal (``QuerySet.update``, ``bulk_create``) made for the reader by their own request are
    covered so; those made for others call :func:`reader_changed` or :func:`activity_changed` themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.method not in SAFE_METHODS and user is not None and user.is_authenticated:
            cache_reads.replace_version(READER_KEY.format(user.pk))  # after the view: what it wrote is committed
        return response


def reader_page(view):
    """Serve a logged-in reader's page from the cache when nothing it shows has changed since it was kept."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        key = _page_key(request)
        found = page_cache.kept_page(key, _version_keys(request.user.pk)) if key else None
        if found is None:
            return view(request, *args, **kwargs)
        versions, kept = found
        if kept is not None:
            response = page_cache.serve_kept(request, kept)
            response.setdefault("Cache-Control", "private")
            return response
        response = view(request, *args, **kwargs)
        content = page_cache.without_token(request, response.content) if _keepable(request, response) else None
        if content is not None:
            page_cache.keep_page(key, versions, content, response)
        return response

    return wrapper


def _page_key(request: HttpRequest) -> str | None:
    """Return the key of this reader's page, or None when it is not to be served from the cache."""
    user = request.user
    if request.method != "GET" or not user.is_authenticated or page_cache.MESSAGES_COOKIE in request.COOKIES:
        return None
    query = request.META.get("QUERY_STRING", "")
    if len(query) > page_cache.PAGE_MAX_QUERY:
        return None
    session = sorted(request.session.items())
    return page_cache.page_key(
        "reader", user.pk, session, timezone.localdate(), request.get_host(), request.path, query
    )


def _version_keys(user_id: int) -> tuple[str, ...]:
    return (page_cache.VERSION_KEY, PERMISSIONS_KEY, ACTIVITY_KEY, READER_KEY.format(user_id))


def _keepable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        page_cache.whole_and_shared(request, response)
        and not request.session.modified
        and "no-store" not in response.get("Cache-Control", "")
    )
