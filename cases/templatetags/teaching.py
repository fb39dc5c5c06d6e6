from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from cases.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Render Markdown through the sanitiser."""
    return render_markdown(text)


@register.filter
def ago(moment: datetime) -> str:
    """Say how long ago a moment was: "just now" within the minute, not "0 minutes ago"."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"
