"""How often anonymous visitors may ask the site to send e-mail or create accounts (django-ratelimit)."""

import ipaddress
import unicodedata

from axes.helpers import get_client_ip_address
from django.http import HttpRequest
from django_ratelimit.core import get_usage

# A person who lost a password asks once or twice; more than this is someone filling another's mailbox.
RESET_PER_ADDRESS = "3/h"
RESET_PER_CLIENT = "10/h"
# Changing one's address is rare; the form also checks the password, so this bounds guessing it too.
EMAIL_CHANGE_PER_USER = "5/h"
EMAIL_CHANGE_PER_ADDRESS = "3/h"
# A department signing up on the day of an announcement shares one address behind the hospital's proxy; every
# attempt counts (typos, taken usernames), so that probing which usernames exist is slow.
SIGNUP_PER_CLIENT = "60/h"
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


def signups_exhausted(request: HttpRequest) -> bool:
    """Whether this client has made its hour's sign-up attempts."""
    usage = get_usage(request, group="signup", key="ip", rate=SIGNUP_PER_CLIENT)
    return usage["count"] >= usage["limit"]


def signup_count(request: HttpRequest) -> None:
    """Count a sign-up attempt of this client, whatever its outcome."""
    get_usage(request, group="signup", key="ip", rate=SIGNUP_PER_CLIENT, increment=True)
