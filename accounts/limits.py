"""How often anonymous visitors may ask the site to send e-mail or create accounts (django-ratelimit)."""

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

# A person who lost a password asks once or twice; more than this is someone filling another's mailbox.
RESET_PER_ADDRESS = "3/h"
RESET_PER_CLIENT = "10/h"
# A department signing up on the day of an announcement shares one address behind the hospital's proxy.
SIGNUP_PER_CLIENT = "30/h"


def client_address(request: HttpRequest) -> str:
    """The client's address as the login lock reads it (the same proxy settings), for the same person."""
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or "unknown"


def posted_email(group: str, request: HttpRequest) -> str:
    """The e-mail address a form asks about, as one key whatever its case or spaces."""
    return request.POST.get("email", "").strip().lower()
