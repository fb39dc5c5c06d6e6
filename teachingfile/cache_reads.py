"""Reads of the shared cache that a page can do without (docs/decisions.md, "Pages while Redis is down").

When the cache (Redis in production) cannot be reached, a read here answers "not there" and the keeping of
something rendered is skipped, each with a line for the operator: the page is made from the database, slower
but whole. Once one call of a request has found the cache unreachable, the others of that request do not wait
on it again. What must reach the cache does not come here — a new content or permissions version after a write
(``cases.page_cache.content_changed``, ``accounts.backends.permissions_changed``) fails, and the write with it,
so that no part rendered before the write can be served once the cache is back.
"""

import logging
import secrets
from contextvars import ContextVar

from django.core.cache import cache
from django.core.signals import request_finished, request_started

logger = logging.getLogger(__name__)
# Whether this request has found the cache unreachable (None outside a request: workers and commands always try).
_unreachable_in_request: ContextVar[bool | None] = ContextVar("cache_unreachable_in_request", default=None)


def _request_began(**_signal) -> None:
    _unreachable_in_request.set(False)


def _request_ended(**_signal) -> None:
    _unreachable_in_request.set(None)


def connect_signals() -> None:
    request_started.connect(_request_began, dispatch_uid="cache-reads-request-started")
    request_finished.connect(_request_ended, dispatch_uid="cache-reads-request-finished")


def unreachable_errors() -> tuple[type[Exception], ...]:
    """Return the errors of an unreachable cache: Redis's, and the socket's.

    Called in ``except`` clauses, which evaluate it only once a cache call has raised: importing Redis's
    client costs every process 40 ms of start-up (a command such as ``import_study`` included) when nothing
    has failed.
    """
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def known_unreachable() -> bool:
    """Say whether this request has already found the cache unreachable."""
    return bool(_unreachable_in_request.get())


def version(key: str) -> str | None:
    """Return the version stored under ``key`` (made on first use), or None when the cache is unreachable."""
    if known_unreachable():
        return None
    try:
        return cache.get_or_set(key, secrets.token_hex(8), timeout=None)
    except unreachable_errors() as error:
        unreachable("read a version", error)
        return None


def cached(key: str):
    """Return what the cache keeps under ``key``, or None (also when it is unreachable)."""
    if known_unreachable():
        return None
    try:
        return cache.get(key)
    except unreachable_errors() as error:
        unreachable("read", error)
        return None


def cached_many(keys: list[str]) -> dict:
    """Return what the cache keeps under these keys (those it has), or nothing when it is unreachable."""
    if known_unreachable():
        return {}
    try:
        return cache.get_many(keys)
    except unreachable_errors() as error:
        unreachable("read", error)
        return {}


def keep(key: str, value, timeout: int) -> None:
    if known_unreachable():
        return
    try:
        cache.set(key, value, timeout)
    except unreachable_errors() as error:
        unreachable("keep", error)


def keep_many(values: dict, timeout: int) -> None:
    if known_unreachable():
        return
    try:
        cache.set_many(values, timeout)
    except unreachable_errors() as error:
        unreachable("keep", error)


def replace_version(key: str) -> None:
    """Replace the version under ``key``; with the cache unreachable, say so and go on (the write that asked goes on:
    for the versions where that is safe, docs/decisions.md, "A reader's pages from the cache")."""
    if known_unreachable():
        return
    try:
        cache.set(key, secrets.token_hex(8), timeout=None)
    except unreachable_errors() as error:
        unreachable("replace a version", error)


def unreachable(what: str, error: Exception) -> None:
    """Log that the cache could not be reached, and remember it for the rest of the request."""
    logger.warning("Could not %s a page part: the cache is unreachable (%s)", what, type(error).__name__)
    if _unreachable_in_request.get() is not None:
        _unreachable_in_request.set(True)
