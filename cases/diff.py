"""Word-by-word differences between two texts, as escaped HTML with ``<del>`` and ``<ins>`` marks."""

import difflib
import re

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Words and the white space between them; keeping the spaces keeps line ends and indentation in the output.
TOKENS = re.compile(r"(\s+)")


def diff_html(old: str, new: str) -> SafeString:
    """Return ``new`` as HTML with what it removed from ``old`` in ``<del>`` and what it added in ``<ins>``.

    The texts are authors' Markdown source, shown as typed: every piece is escaped, nothing is rendered.
    """
    before, after = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    pieces = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(escape("".join(before[old_start:old_end])))
            continue
        if old_end > old_start:
            pieces.append(format_html("<del>{}</del>", "".join(before[old_start:old_end])))
        if new_end > new_start:
            pieces.append(format_html("<ins>{}</ins>", "".join(after[new_start:new_end])))
    return mark_safe("".join(pieces))  # noqa: S308 -- each piece was escaped above


def _tokens(text: str) -> list[str]:
    return [token for token in TOKENS.split(text) if token]
