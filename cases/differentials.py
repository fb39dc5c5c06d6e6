"""A reader's differential before the reveal: the names it may suggest, and each entry marked after the reveal.

Entries are marked with the quizzes' matcher (:func:`quizzes.matching.mark_diagnosis`: synonyms,
abbreviations, typos, negation), first against the case's diagnosis (its text, and its topic's name and
synonyms), then against each entry of the author's differential: its text, the alternatives it lists ("A or
B", "A; B", "A/B", "C (e.g. A, B)") each on its own, and its topic's names when it has one.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import models
from django.db.models import prefetch_related_objects

from quizzes.matching import mark_diagnosis, normalise

from .models import Case, DifferentialEntry, RevealDifferential, Topic

# Where an author's differential entry lists alternatives: "or", commas, semicolons, slashes, parentheses.
_ALTERNATIVES = re.compile(r"\bor\b|[,;/()\[\]]", re.IGNORECASE)
_EXAMPLE_CUES = re.compile(r"^(?:e\.?g\.?|i\.?e\.?|including|such as|for example)\s+", re.IGNORECASE)


class Mark(models.TextChoices):
    """Where an entry of the reader's differential stands against the author's answer."""

    DIAGNOSIS = "diagnosis", "the diagnosis"
    DIFFERENTIAL = "differential", "in the differential"
    NOT_LISTED = "not-listed", "not listed"


@dataclass(frozen=True)
class MarkedEntry:
    """One entry of the reader's differential, with its mark and the author's entry it matched, if any."""

    rank: int
    text: str
    mark: Mark
    matched: str = ""  # the author's differential entry it matched; empty unless ``mark`` is DIFFERENTIAL

    @property
    def match_note(self) -> str:
        """Return the author's entry it matched when the reader wrote it otherwise, to show beside it."""
        return self.matched if self.matched.casefold() != self.text.casefold() else ""


def suggested_names() -> list[str]:
    """Return the names the differential's boxes suggest, the same on every case: every topic's name and
    synonyms, sorted, without repeats."""
    names = {}
    for topic in Topic.objects.only("name", "synonyms"):
        for name in (topic.name, *topic.synonym_list):
            names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)


@dataclass(frozen=True)
class TopThree:
    """How often a reader's differential held the diagnosis, over the cases revealed with one entered."""

    entered: int
    hit: int


def top_three_for(user) -> TopThree:
    """Count the cases this user revealed with a differential, and those whose diagnosis it named.

    One query, whatever the number of reveals.
    """
    entries = RevealDifferential.objects.filter(
        reveal__user=user, reveal__case__in=Case.objects.viewable()
    ).select_related("reveal__case__topic")
    by_reveal: dict[int, bool] = {}
    for entry in entries:
        if not by_reveal.get(entry.reveal_id):
            by_reveal[entry.reveal_id] = names_diagnosis(entry.reveal.case, entry.text)
    return TopThree(entered=len(by_reveal), hit=sum(by_reveal.values()))


def names_diagnosis(case: Case, text: str) -> bool:
    """Say whether ``text`` names the case's diagnosis (its own words, or its topic's name or a synonym)."""
    return _names(text, case.diagnosis, case.topic)


def mark_differential(*, case: Case, entries: Iterable[RevealDifferential]) -> list[MarkedEntry]:
    """Mark each entry of a reader's differential against the case's diagnosis, then its differential.

    Call it only once the answer is shown: it reads the case's hidden differential.
    """
    entries = list(entries)
    if not entries:
        return []
    prefetch_related_objects([case], "differential__topic")
    authors = list(case.differential.all())
    return [_mark(case, authors, entry) for entry in entries]


def _mark(case: Case, authors: Sequence[DifferentialEntry], entry: RevealDifferential) -> MarkedEntry:
    if names_diagnosis(case, entry.text):
        return MarkedEntry(rank=entry.rank, text=entry.text, mark=Mark.DIAGNOSIS)
    for author in authors:
        if _names(entry.text, author.diagnosis, author.topic, alternatives=_alternatives(author.diagnosis)):
            return MarkedEntry(rank=entry.rank, text=entry.text, mark=Mark.DIFFERENTIAL, matched=author.diagnosis)
    return MarkedEntry(rank=entry.rank, text=entry.text, mark=Mark.NOT_LISTED)


def _names(text: str, diagnosis: str, topic: Topic | None, *, alternatives: Sequence[str] = ()) -> bool:
    if normalise(diagnosis) and mark_diagnosis(text, diagnosis, alternatives).correct:
        return True
    return topic is not None and mark_diagnosis(text, topic.name, topic.synonym_list).correct


def _alternatives(diagnosis: str) -> tuple[str, ...]:
    """Return the diagnoses an author's entry lists as alternatives, each on its own.

    "Soft-tissue calcification (e.g. tumoral calcinosis, calcification in joint disease)" lists three.
    """
    parts = (_EXAMPLE_CUES.sub("", part.strip()) for part in _ALTERNATIVES.split(diagnosis))
    return tuple(part for part in parts if part and part != diagnosis.strip())
