from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from cases import renditions, signed_media
from cases.markdown import render_markdown
from cases.models import Image

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


@register.filter
def media_url(name: str) -> str:
    """Return the address of a stored image this page may show its reader (signed for nginx when configured)."""
    return signed_media.media_url(name)


@register.filter
def page_image(image: Image) -> renditions.PageImage:
    """Return the sources the case page offers for an image (``srcset`` by true widths)."""
    return renditions.page_image(image)


@register.filter
def stage_columns(count: int) -> int:
    """Return how many of a stage's images the page shows side by side: all of them, up to three."""
    return max(1, min(int(count), 3))


@register.filter
def stage_sizes(count: int) -> str:
    """Return ``sizes`` for a stage of ``count`` images shown side by side across the page (one: its width)."""
    columns = stage_columns(count)
    return f"(max-width: 640px) calc(100vw - 4.5rem), min(calc((100vw - 5rem) / {columns}), {1100 // columns}px)"
