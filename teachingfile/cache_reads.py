"""Reads of the shared cache that a page can do without (docs/decisions.md, "Pages while Redis is down").

When the cache (Redis in production) cannot be reached, a read here answers "not there" and the keeping of
something rendered is skipped, each with a line for the operator: the page is made from the database, slower
but whole. What must reach the cache does not come here — a new content or permissions version after a write
(``cases.page_cache.content_changed``, ``accounts.backends.permissions_changed``) fails, and the write with it,
so that no part rendered before the write can be served once the cache is back.
"""

import logging
import secrets

from django.core.cache import cache

logger = logging.getLogger(__name__)


def unreachable() -> tuple[type[Exception], ...]:
    """Return the errors of an unreachable cache: Redis's, and the socket's.

    Called in ``except`` clauses, which evaluate it only once a cache call has raised: importing Redis's
    client costs every process 40 ms of start-up (a command such as ``import_study`` included) when nothing
    has failed.
    """
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def version(key: str) -> str | None:
    """Return the version stored under ``key`` (made on first use), or None when the cache is unreachable."""
    try:
        return cache.get_or_set(key, secrets.token_hex(8), timeout=None)
    except unreachable() as error:
        _unreachable("read a version", error)
        return None


def cached(key: str):
    """Return what the cache keeps under ``key``, or None (also when it is unreachable)."""
    try:
        return cache.get(key)
    except unreachable() as error:
        _unreachable("read", error)
        return None


def cached_many(keys: list[str]) -> dict:
    try:
        return cache.get_many(keys)
    except unreachable() as error:
        _unreachable("read", error)
        return {}


def keep(key: str, value, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except unreachable() as error:
        _unreachable("keep", error)


def keep_many(values: dict, timeout: int) -> None:
    try:
        cache.set_many(values, timeout)
    except unreachable() as error:
        _unreachable("keep", error)


def _unreachable(what: str, error: Exception) -> None:
    logger.warning("Could not %s a page part: the cache is unreachable (%s)", what, type(error).__name__)
