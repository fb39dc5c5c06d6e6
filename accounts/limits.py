"""How often anonymous visitors may ask the site to send e-mail or create accounts (django-ratelimit)."""

import ipaddress
import logging
import unicodedata

from axes.helpers import get_client_ip_address
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# A person who lost a password asks once or twice; more than this is someone filling another's mailbox.
RESET_PER_ADDRESS = "3/h"
RESET_PER_CLIENT = "10/h"
# Changing one's address is rare; the form also checks the password, so this bounds guessing it too.
EMAIL_CHANGE_PER_USER = "5/h"
EMAIL_CHANGE_PER_ADDRESS = "3/h"
# A department signing up on the day of an announcement shares one address behind the hospital's proxy; every
# attempt counts (typos, taken usernames), so that probing which usernames exist is slow.
SIGNUP_PER_CLIENT = "60/h"
# How long to tell a refused visitor to wait when the counts cannot be kept (Retry-After, in seconds).
RETRY_AFTER_SECONDS = 120
# Counted when nothing tells clients apart (a server on a Unix socket with no X-Forwarded-For): one shared count.
UNKNOWN_CLIENT = "0.0.0.0"


def client_address(request: HttpRequest) -> str:
    """The client's address as the login lock reads it (the same proxy settings), for the same person."""
    address = get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return UNKNOWN_CLIENT


def posted_email(group: str, request: HttpRequest) -> str:
    """The e-mail address a form asks about, as one key whatever its case, width or spaces."""
    return unicodedata.normalize("NFKC", request.POST.get("email", "")).strip().casefold()


class CountsUnavailable(Exception):
    """The cache that keeps the counts (Redis in production) cannot be reached: the request is refused, not
    served uncounted (docs/decisions.md, "Redis down")."""


def signups_exhausted(request: HttpRequest) -> bool:
    """Whether this client has made its hour's sign-up attempts."""
    usage = _usage(request, group="signup", key="ip", rate=SIGNUP_PER_CLIENT)
    return usage is not None and usage["count"] >= usage["limit"]


def signup_count(request: HttpRequest) -> None:
    """Count a sign-up attempt of this client, whatever its outcome."""
    _usage(request, group="signup", key="ip", rate=SIGNUP_PER_CLIENT, increment=True)


def reset_over_limit(request: HttpRequest) -> bool:
    """Count a password-reset request, per client and per asked-for address; whether either is over its limit."""
    by_client = _over(request, group="password-reset", key="ip", rate=RESET_PER_CLIENT)
    by_address = _over(request, group="password-reset", key=posted_email, rate=RESET_PER_ADDRESS)
    return by_client or by_address


def email_change_over_limit(request: HttpRequest) -> bool:
    """Count an e-mail change request, per user and per new address; whether either is over its limit."""
    by_user = _over(request, group="email-change", key="user", rate=EMAIL_CHANGE_PER_USER)
    by_address = _over(request, group="email-change-address", key=posted_email, rate=EMAIL_CHANGE_PER_ADDRESS)
    return by_user or by_address


def _over(request: HttpRequest, *, group: str, key, rate: str) -> bool:
    usage = _usage(request, group=group, key=key, rate=rate, increment=True)
    return usage is not None and usage["should_limit"]


def _usage(request: HttpRequest, *, group: str, key, rate: str, increment: bool = False) -> dict | None:
    """django-ratelimit's count, or CountsUnavailable (and a line for the operator) when the cache is down."""
    try:
        return get_usage(request, group=group, key=key, rate=rate, increment=increment)
    except (RedisError, OSError) as error:
        logger.error(
            "Refused a %s request: the cache that counts them is unreachable (%s)", group, type(error).__name__
        )
        raise CountsUnavailable from error
