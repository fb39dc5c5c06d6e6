"""The author's check of a collection's words: read before any of its cases is revealed, they name no diagnosis."""

import re
from collections.abc import Iterable

from cases.models import Case


def text_naming_cases(*, texts: Iterable[str], cases: Iterable[Case]) -> list[str]:
    """Return the diagnoses, topics and topic synonyms of these cases that the texts name (whole words, any case).

    Reads ``case.topic``: pass cases with their topic selected.
    """
    text = " ".join(part.replace("-", " ") for part in texts).lower()
    names = set()
    for case in cases:
        names.add(case.diagnosis)
        if case.topic:
            names |= {case.topic.name, *case.topic.synonym_list}
    return sorted(name for name in names if name and re.search(rf"\b{re.escape(name.lower())}\b", text))
