"""Readiness: can this process serve? Each of its dependencies asked the cheapest question that proves it answers.

A load balancer asks every few seconds (``/readyz``, ``health.middleware``), so each probe is one round trip:
``SELECT 1``, a cache read, a listing of the media storage's top folder, one row of the task queue's table.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger(__name__)

OK, FAILED, NOT_CHECKED = "ok", "failed", "not checked"
# A key nobody writes: a miss proves the cache server answered.
CACHE_PROBE_KEY = "health:readiness-probe"


@dataclass(frozen=True)
class Readiness:
    """Each dependency's answer ("ok", "failed" or "not checked"), by name."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return FAILED not in self.checks.values()


def database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return OK


def cache_server() -> str:
    cache.get(CACHE_PROBE_KEY)
    return OK


def storage() -> str:
    default_storage.listdir("")
    return OK


def task_queue() -> str:
    """Reach the queue the workers take jobs from; a backend this module does not know is not checked."""
    backend = settings.TASKS["default"]["BACKEND"]
    if backend == "django_tasks_db.DatabaseBackend":
        from django_tasks_db.models import DBTaskResult  # the app's models load after settings

        DBTaskResult.objects.exists()
        return OK
    if backend in {"django_tasks.backends.immediate.ImmediateBackend", "django_tasks.backends.dummy.DummyBackend"}:
        return OK  # runs in this process: nothing to reach
    return NOT_CHECKED


PROBES: dict[str, Callable[[], str]] = {
    "database": database,
    "cache": cache_server,
    "storage": storage,
    "task_queue": task_queue,
}


def readiness() -> Readiness:
    """Ask every dependency; a failure is logged for the operator (its kind, never its message's secrets)."""
    checks = {}
    for name, probe in PROBES.items():
        try:
            checks[name] = probe()
        except Exception as error:  # any failure means "not ready", whatever the client library raises
            logger.warning("Not ready: the %s is unreachable (%s)", name.replace("_", " "), type(error).__name__)
            checks[name] = FAILED
    return Readiness(checks)
