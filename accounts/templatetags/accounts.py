"""Template filters about accounts: ``{% load accounts %}``."""

from datetime import timedelta

from django import template
from django.template.defaultfilters import pluralize

from accounts.names import display_name
from accounts.roles import role_of

register = template.Library()


register.filter(display_name)


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
