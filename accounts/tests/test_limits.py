"""Counted requests while the cache that counts them is down: a polite 503 and a line for the operator, no 500.

The cache is a real Redis client pointed at a local port nothing listens on (what a stopped Redis looks like to
the site), never a patched one.
"""

import logging
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from redis.backoff import NoBackoff
from redis.retry import Retry

from accounts.tests.test_views import NEW_ACCOUNT, PASSWORD
from cases.tests.factories import make_user

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on: bound by the system, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down():
    """Django's Redis cache, as production configures it, with Redis stopped."""
    location = f"redis://127.0.0.1:{closed_port()}/0"
    options = {"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 1)}  # as in prod.py
    cache = {"BACKEND": "teachingfile.redis_cache.ReusedClientRedisCache", "LOCATION": location, "OPTIONS": options}
    with override_settings(CACHES={"default": cache}):
        yield


def assert_refused_politely(response, caplog, group: str) -> None:
    text = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "120"
    assert "The site cannot take this request just now" in text and "try again in a few minutes" in text
    assert f"Refused a {group} request: the cache that counts them is unreachable (ConnectionError)" in caplog.text
    assert mail.outbox == []


def test_password_reset_is_refused_politely_while_redis_is_down(client, redis_down, caplog):
    make_user("forgetful-t", email="forgetful@example.org")
    with caplog.at_level(logging.ERROR, logger="accounts"):
        response = client.post(reverse("password_reset"), {"email": "forgetful@example.org"})
    assert_refused_politely(response, caplog, "password-reset")
    assert 'value="forgetful@example.org"' in response.content.decode(), "the form keeps what was typed"


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_sign_up_is_refused_politely_while_redis_is_down_and_creates_nothing(client, redis_down, caplog):
    with caplog.at_level(logging.ERROR, logger="accounts"):
        response = client.post(reverse("accounts:signup"), NEW_ACCOUNT)
    assert_refused_politely(response, caplog, "signup")
    assert not get_user_model().objects.filter(username=NEW_ACCOUNT["username"]).exists()


def test_an_email_change_is_refused_politely_while_redis_is_down(client, resident, redis_down, caplog):
    client.force_login(resident)
    with caplog.at_level(logging.ERROR, logger="accounts"):
        response = client.post(reverse("accounts:email-change"), {"email": "new@example.org", "password": PASSWORD})
    assert_refused_politely(response, caplog, "email-change")


def test_pages_that_count_nothing_still_work_while_redis_is_down(client, resident, redis_down):
    assert client.get(reverse("password_reset")).status_code == 200
    assert client.post(reverse("login"), {"username": "resident-t", "password": PASSWORD}).status_code == 302
    assert client.get(reverse("cases:home")).status_code == 200
