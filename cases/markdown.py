"""Render author-written Markdown to HTML that is safe to show."""

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["tables", "sane_lists", "smarty"]


def render_markdown(text: str) -> SafeString:
    """Return sanitised HTML for a Markdown text."""
    html = markdown_lib.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308
