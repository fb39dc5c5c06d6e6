"""/healthz and /readyz: answered to any host over plain HTTP, 503 naming the failed check, nothing else."""

import json
import socket

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def probe(path: str, **extra):
    """Ask as a load balancer does: by the host's address, over plain HTTP, without cookies."""
    return Client(HTTP_HOST="10.0.0.7:8000", **extra).get(path)


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["teaching.example.org"])
def test_liveness_answers_any_host_over_http_and_asks_no_database():
    with CaptureQueriesContext(connection) as queries:
        response = probe("/healthz")
    assert response.status_code == 200 and json.loads(response.content) == {"status": "up"}
    assert response["Cache-Control"] == "no-store"
    assert queries.captured_queries == []


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["teaching.example.org"])
def test_readiness_checks_each_dependency():
    response = probe("/readyz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "storage", "task_queue"}
    assert set(body["checks"].values()) == {"ok"}


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_readiness_asks_the_database_queue_its_table():
    with CaptureQueriesContext(connection) as queries:
        assert probe("/readyz").status_code == 200
    assert any("django_tasks_database_dbtaskresult" in query["sql"] for query in queries.captured_queries)


def test_readiness_is_503_naming_the_unreachable_cache_and_no_secret(caplog):
    password = "a-redis-password-in-the-url"
    location = f"redis://:{password}@127.0.0.1:{closed_port()}/0"
    cache = {"BACKEND": "teachingfile.redis_cache.ReusedClientRedisCache", "LOCATION": location}
    with override_settings(CACHES={"default": cache}):
        response = probe("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {
        "status": "not ready",
        "checks": {"database": "ok", "cache": "failed", "storage": "ok", "task_queue": "ok"},
    }
    assert "Not ready: the cache is unreachable (ConnectionError)" in caplog.text
    assert password not in caplog.text and str(location) not in response.content.decode()


def test_readiness_is_503_when_the_media_folder_is_gone(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path / "not-mounted"):
        response = probe("/readyz")
    assert response.status_code == 503 and json.loads(response.content)["checks"]["storage"] == "failed"


def test_other_methods_and_paths_go_to_the_site():
    assert Client().post("/readyz").status_code == 404
    assert probe("/healthz/").status_code == 400, "the site's own host check applies off the two probes"
