"""Template filters about accounts: ``{% load accounts %}``."""

from datetime import timedelta

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import pluralize

from accounts.roles import role_of

register = template.Library()


@register.filter
def display_name(user) -> str:
    """Return the name to show for a user: the profile's display name, else the full name, else the username.

    Costs no query when the profile was loaded with the user: ``select_related("profile")`` on a user
    QuerySet, or ``select_related("author__profile")`` from a model pointing at the user. ``request.user``
    always comes with it (``accounts.backends.ProfileModelBackend``). Without it, the first call for each user
    costs one query.
    """
    if user is None or not getattr(user, "pk", None):
        return ""
    try:
        name = user.profile.display_name
    except ObjectDoesNotExist:
        name = ""
    return name or user.get_full_name() or user.get_username()


@register.filter
def role(user) -> str:
    """Return the role shown beside a person's name (``accounts.roles.role_of``); prefetch ``groups`` for lists."""
    return role_of(user) if user is not None and getattr(user, "pk", None) else ""


@register.filter
def duration_text(duration: timedelta | None) -> str:
    """Return a wait in words: "15 minutes", "1 hour", "1 hour 30 minutes"."""
    if not duration:
        return "a while"
    minutes = max(1, round(duration.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{pluralize(hours)}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{pluralize(minutes)}")
    return " ".join(parts)
