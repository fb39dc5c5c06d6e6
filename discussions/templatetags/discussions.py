from django import template
from django.utils.safestring import SafeString

from cases.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Render a comment's Markdown through the sanitiser."""
    return render_markdown(text)
