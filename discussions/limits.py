"""How often one person may post comments (django-ratelimit): each comment notifies and e-mails the case's authors."""

from django.http import HttpRequest
from django_ratelimit.core import get_usage

# A lively case conference posts a few comments a minute; more for ten minutes, or all day, is a script or a
# stuck key filling the authors' mailboxes.
COMMENTS_PER_WINDOW = "10/10m"
COMMENTS_PER_DAY = "60/d"


def comment_wait(request: HttpRequest) -> str:
    """Return how long this user must wait before the next comment ("" when they may post now)."""
    for rate, wait in ((COMMENTS_PER_DAY, "until tomorrow"), (COMMENTS_PER_WINDOW, "a few minutes")):
        usage = get_usage(request, group="comment", key="user", rate=rate)
        if usage["count"] >= usage["limit"]:
            return wait
    return ""


def comment_count(request: HttpRequest) -> None:
    """Count a comment this user posted."""
    for rate in (COMMENTS_PER_WINDOW, COMMENTS_PER_DAY):
        get_usage(request, group="comment", key="user", rate=rate, increment=True)
