"""Parts of pages that are the same for many readers, rendered once and cached until the content changes.

Every key starts with the content version: a token replaced whenever a case, stage, image, annotation, finding, topic
or one of a topic's parts is saved or deleted (model signals; the writes that bypass them — ``bulk_create``,
``QuerySet.update`` — call :func:`content_changed` themselves). It is replaced at once and again when the
transaction commits, so a part rendered from rows about to change cannot outlive the change.

What each key adds to the version is what else decides what the part may show (docs/decisions.md, "Pages
from the cache"): the pre-reveal body of a case is the same for every reader, whatever their role, access or
reveal state, but for the gates they answered, so its key is the case, its last edit and those gates (or "all"
once revealed); a whole page is cached only for a visitor with no session (no reveals, no gate answers, no role,
public cases only), and kept without its CSRF token: each visitor's copy gets their own when it is served.
"""

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.template.response import SimpleTemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe

from teachingfile import cache_reads

from . import signed_media

VERSION_KEY = "pages:content-version"
# A part is kept an hour at most: a write that neither a signal nor its own call reported goes stale no longer.
PART_SECONDS = 3600
# A whole anonymous page, a shorter while: its key space is every query string a visitor can type.
PAGE_SECONDS = 300
PAGE_MAX_QUERY = 200
# A form's CSRF token as {% csrf_token %} renders it (a masked token: 64 letters and digits), and the slot a kept page
# has in its place. Escaped page text cannot close an attribute, so neither can be forged by what an author wrote.
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"')
CSRF_SLOT = b'name="csrfmiddlewaretoken" value="(kept-page-token-slot)"'
MESSAGES_COOKIE = CookieStorage.cookie_name
# The models whose rows a cached part shows (by label: this module is imported by the models' app config).
CONTENT_MODELS = (
    "cases.Case",
    "cases.Series",
    "cases.Image",
    "cases.Annotation",
    "cases.CaseFinding",  # no cached part shows one yet; a finding's link is content all the same
    "cases.Gate",  # where a gate stands decides which stages a case's body holds
    "cases.Topic",
    "cases.TopicSection",
    "cases.ClassificationSystem",
    "cases.ClassificationGrade",
    "cases.TopicReference",
)


# The content version as this request first read it: a page asks for it once per part, Redis once per request.
# Outside a request (workers, commands) nothing is remembered.
_request_version: ContextVar[dict | None] = ContextVar("page_cache_request_version", default=None)


def content_version() -> str | None:
    """Return the current content version (made on first use); None when the cache is unreachable."""
    remembered = _request_version.get()
    if remembered:
        return remembered["version"]
    version = cache_reads.version(VERSION_KEY)
    if remembered is not None and version is not None:
        remembered["version"] = version
    return version


def _remember_content_version(version: str) -> None:
    """Remember, for the rest of this request, the content version a caller read itself."""
    remembered = _request_version.get()
    if remembered is not None:
        remembered["version"] = version


def content_changed(**_signal) -> None:
    """Make every cached part stale: now, and once more when the writing transaction commits."""
    replace_now_and_at_commit(VERSION_KEY, _replace_version)


def replace_now_and_at_commit(key: str, replace: Callable[[], None]) -> None:
    """Call ``replace`` (which replaces the version under ``key``) now, and when the transaction commits — once,
    however many of its rows tell (a transaction that writes a thousand rows replaces it at commit once)."""
    replace()
    pending = transaction.get_connection().run_on_commit
    if any(getattr(callback, "replaces", None) == key for _, callback, _ in pending):
        return
    at_commit = functools.partial(replace)
    at_commit.replaces = key
    transaction.on_commit(at_commit)


def upgraded(**_signal) -> None:
    """Make every kept part and page stale after ``migrate``, which every upgrade runs: what a changed template or
    code renders is rendered anew. An unreachable cache is logged, not raised: an upgrade does not wait on it."""
    cache_reads.replace_version(VERSION_KEY)


def _replace_version() -> None:
    cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    remembered = _request_version.get()
    if remembered is not None:
        remembered.clear()


def _request_began(**_signal) -> None:
    _request_version.set({})


def _request_ended(**_signal) -> None:
    _request_version.set(None)


def connect_signals(apps) -> None:
    """Report every save and delete of the content models (called by the cases app when it is ready)."""
    for label in CONTENT_MODELS:
        model = apps.get_model(label)
        post_save.connect(content_changed, sender=model, dispatch_uid=f"page-cache-save-{label}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"page-cache-delete-{label}")
    request_started.connect(_request_began, dispatch_uid="page-cache-request-started")
    cache_reads.connect_signals()
    request_finished.connect(_request_ended, dispatch_uid="page-cache-request-finished")
    # A case's authors may edit it, and see its tools on the page.
    authors = apps.get_model("cases.Case").authors.through
    m2m_changed.connect(content_changed, sender=authors, dispatch_uid="page-cache-case-authors")


def cached_part(name: str, *vary_on, render: Callable[[], str]) -> SafeString:
    """Return the rendered part ``name`` for these inputs, rendering it only when the cache has none."""
    key = part_key("part", name, *vary_on)
    html = cache_reads.cached(key) if key else None
    if html is None:
        html = render()
        if key:
            cache_reads.keep(key, html, PART_SECONDS)
    return mark_safe(html)  # rendered by our templates, which escape what they show


def case_body(case, *, gates_passed: tuple[int, ...] | str, stages: Callable[[], list]) -> SafeString:
    """Return the history and the stages a case shows before its reveal to readers who passed these gates.

    ``gates_passed``: the ids of the case's gates the reader answered, or "all" once they revealed it; the
    stages behind a gate not in it are not in the part.
    """
    return cached_part(
        "case-body",
        case.pk,
        case.updated.isoformat(),
        gates_passed,
        render=lambda: render_to_string("cases/includes/case_body.html", {"case": case, "presented_series": stages()}),
    )


def topic_article(topic) -> tuple[SafeString, SafeString]:
    """Return a topic's article around its list of cases (the reader's own): summary, sections and
    classifications before it, references after it."""

    def render(part: str) -> str:
        if not hasattr(topic, "_prefetched_objects_cache"):
            prefetch_related_objects([topic], "sections", "references", Prefetch("classifications__grades"))
        return render_to_string(f"cases/includes/topic_{part}.html", {"topic": topic})

    head = cached_part("topic-head", topic.pk, render=lambda: render("head"))
    return head, cached_part("topic-references", topic.pk, render=lambda: render("references"))


def case_cards(cases, *, hide_diagnosis: bool = False) -> list[SafeString]:
    """Return the cards of these cases as this reader sees them, in order, rendering only those not cached.

    ``cases`` is the reader's queryset, sliced as shown and annotated with ``revealed`` (their reveal state),
    read here as (id, revealed) pairs, or a page's cases already read with it (``cases.listing``): a card is
    cached per case, per reveal state and per whether it may name the diagnosis.
    """
    version = content_version()
    read = not isinstance(cases, QuerySet)
    rows = (
        [(case.pk, case.revealed) for case in cases]
        if read
        else cases.prefetch_related(None).values_list("pk", "revealed")
    )
    # Without a version (the cache unreachable) the keys are this call's own, and nothing is read or kept.
    keys = {pk: part_key("card", pk, revealed, hide_diagnosis, version=version) or pk for pk, revealed in rows}
    found = cache_reads.cached_many(list(keys.values())) if version else {}
    missing = {pk: revealed for pk, revealed in rows if keys[pk] not in found}
    if missing:
        rendered = {}
        shown = cases if read else cases.model.objects.filter(pk__in=missing).for_list()
        for case in (case for case in shown if case.pk in missing):
            case.revealed = missing[case.pk]
            context = {"case": case, "hide_diagnosis": hide_diagnosis}
            rendered[keys[case.pk]] = render_to_string("cases/includes/case_card.html", context)
        if version:
            cache_reads.keep_many(rendered, PART_SECONDS)
        found.update(rendered)
    return [mark_safe(found[keys[pk]]) for pk, _ in rows if keys[pk] in found]


def kept_count(counted: QuerySet) -> int:
    """Return ``counted.count()``, kept under the content version: the same query is counted again only once the
    cases change.

    The key is the query's own SQL and parameters, which hold everything else its answer depends on: the reader's
    access (their id, where they may see private cases of their own), the filters, the words searched and, for a
    search, the revealed cases it may match by their answer.
    """
    version = content_version()
    if version is None:
        return counted.count()
    try:
        sql, params = counted.query.get_compiler(counted.db).as_sql()
    except EmptyResultSet:  # a filter that can match nothing (a search with no word left): no query to run
        return 0
    digest = hashlib.blake2b(repr((sql, params)).encode(), digest_size=16).hexdigest()
    key = f"pages:{version}:count:{digest}"
    count = cache_reads.cached(key)
    if count is None:
        count = counted.count()
        cache_reads.keep(key, count, PART_SECONDS)
    return count


def part_key(*parts, version: str | None = None) -> str | None:
    """Return the key of a part under the content version, or None when the cache cannot say which it is."""
    version = version or content_version()
    if version is None:
        return None
    # Everything else that decides what a part may show, for every key: the signing window of the image URLs it
    # holds (so a cached part never hands out an address with less than a window to live).
    shared = (signed_media.window(),)
    digest = hashlib.blake2b(repr(parts + shared).encode(), digest_size=16).hexdigest()
    return f"pages:{version}:{digest}"


def _page_key(request: HttpRequest) -> str | None:
    """Return the key of a visitor's page, or None when it may differ from one visitor to another."""
    if request.method != "GET" or any(name in request.COOKIES for name in _reader_cookies()):
        return None
    query = request.META.get("QUERY_STRING", "")
    if len(query) > PAGE_MAX_QUERY or request.user.is_authenticated:
        return None
    flags = (settings.TEACHINGFILE_ANONYMOUS_BROWSING, settings.TEACHINGFILE_OPEN_SIGNUP)
    return page_key("visitor", request.get_host(), request.path, query, flags)


def page_key(*parts) -> str:
    """Return the key of a whole page: its parts and the signing window of the image URLs it holds."""
    digest = hashlib.blake2b(repr(parts + (signed_media.window(),)).encode(), digest_size=16).hexdigest()
    return f"pages:whole:{digest}"


def kept_page(key: str, version_keys: tuple[str, ...]) -> tuple[tuple, tuple | None] | None:
    """Return the versions under ``version_keys`` (made on first use) and the page kept under ``key`` — its content
    and headers — if it was kept under those same versions, in one read of the cache; None when the cache is
    unreachable.

    A whole page is kept with the versions it was rendered under (:func:`keep_page`) rather than under a key that
    holds them, so that one read finds both.
    """
    if cache_reads.known_unreachable():
        return None
    try:
        found = cache.get_many((*version_keys, key))
    except cache_reads.unreachable_errors() as error:
        cache_reads.unreachable("read a kept page", error)
        return None
    versions = tuple(found.get(name) or cache_reads.version(name) for name in version_keys)
    if None in versions:
        return None
    if VERSION_KEY in version_keys:
        _remember_content_version(versions[version_keys.index(VERSION_KEY)])
    kept_versions, *kept = found.get(key, (None, None, None))
    return versions, tuple(kept) if kept_versions == versions else None


def keep_page(key: str, versions: tuple, content: bytes, response: HttpResponse) -> None:
    """Keep a page's content (its tokens taken out) with the versions it was rendered under and the headers its
    view gave it (``never_cache``'s, for one)."""
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
    cache_reads.keep(key, (versions, content, headers), PAGE_SECONDS)


def serve_kept(request: HttpRequest, kept: tuple) -> HttpResponse:
    """Return a kept page with its view's headers and the reader's own CSRF token in its slots."""
    content, headers = kept
    if CSRF_SLOT in content:
        content = content.replace(CSRF_SLOT, _csrf_field(get_token(request)))
    response = HttpResponse(content)
    for name, value in headers.items():
        response[name] = value
    patch_vary_headers(response, ("Cookie",))
    return response


def _reader_cookies() -> tuple[str, ...]:
    """The cookies that make a visitor's page their own: their session (reveals, login) and their messages."""
    return (settings.SESSION_COOKIE_NAME, MESSAGES_COOKIE)


def whole_and_shared(request: HttpRequest, response: HttpResponse) -> bool:
    """Say whether a rendered page may be kept as far as any kept page goes: a whole 200 that sets no cookie but
    the CSRF one (each served copy sets it anew) and shows no message (a message is shown once)."""
    return (
        response.status_code == 200
        and not response.streaming
        and not set(response.cookies) - {settings.CSRF_COOKIE_NAME}
        and not len(get_messages(request))
    )


def _csrf_field(token: str) -> bytes:
    """Return what a kept page's CSRF slot becomes for the reader holding this token."""
    return b'name="csrfmiddlewaretoken" value="%s"' % token.encode()


def anonymous_page(view):
    """Serve a page to visitors with no session or messages cookie from the cache; others get it rendered for them.

    Such a visitor has no session (so no reveals), no account and no messages: they all get the same page, but
    for its forms' CSRF token. The page is kept with a slot where the token was, and each visitor's copy gets a
    token of their own CSRF cookie (made, and set, for one who has none), as Django's rendering would give them: no
    visitor ever receives another's. A response that sets a cookie (but the CSRF one) is not kept.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        key = _page_key(request)
        found = kept_page(key, (VERSION_KEY,)) if key else None
        if found is None:
            return view(request, *args, **kwargs)
        versions, kept = found
        if kept is not None:
            return serve_kept(request, kept)
        response = view(request, *args, **kwargs)
        if isinstance(response, SimpleTemplateResponse):  # a class-based view's page, rendered here to be kept
            response.render()
        content = without_token(request, response.content) if _keepable(request, response) else None
        if content is not None:
            keep_page(key, versions, content, response)
        return response

    return wrapper


def _keepable(request: HttpRequest, response: HttpResponse) -> bool:
    return whole_and_shared(request, response) and (
        getattr(request, "session", None) is None or request.session.is_empty()
    )


def without_token(request: HttpRequest, content: bytes) -> bytes | None:
    """Return the page with a slot in place of each CSRF token, or None when a token or the visitor's secret is
    left in another form (such a page is not kept)."""
    kept = CSRF_FIELD.sub(CSRF_SLOT, content)
    secret = request.META.get("CSRF_COOKIE", "")
    if b"csrfmiddlewaretoken" in kept.replace(CSRF_SLOT, b"") or (secret and secret.encode() in kept):
        return None
    return kept
