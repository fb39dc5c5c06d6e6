"""The case of the day: one published case a day, the same for every reader who may open the same cases.

Chosen from the date alone (SHA-256 of the ISO date → a point in the range of case ids, then the first
candidate at or after it, wrapping round), among the cases published before the day began, so a case
published at noon does not change the afternoon's choice. A reader who has revealed it is told so and is
offered the next unknown after it in the same order. One query for the range of ids (two on a site whose every
case is new), one for the day's case and one for the next unknown once it is revealed, each a walk of an index
from a point: none counts or reads the whole table. The choice reads ids, numbers and the reveal state only;
the page shows the chosen case by its card (``page_cache.case_cards``), kept apart.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from .models import Case


@dataclass(frozen=True)
class CaseOfTheDay:
    """Today's case for one reader: ``seen`` when they revealed it, then ``another`` unknown to read instead."""

    case: Case | None
    seen: bool = False
    another: Case | None = None

    @property
    def offered(self) -> Case | None:
        """The case the reader is offered to read today: the day's, or another unknown once they saw it."""
        return self.another if self.seen else self.case


def day_point(day: date, *, low: int, high: int) -> int:
    """Return the day's point in [low, high]: the same for everyone, spread over the range from day to day."""
    digest = hashlib.sha256(day.isoformat().encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def case_of_the_day(*, cases: QuerySet, reveals: QuerySet, day: date) -> CaseOfTheDay:
    """Return the day's case among ``cases`` (published, visible to the reader) as the reader stands with it.

    ``reveals`` are the reader's reveals as they count now (``reader_reveals``).
    """
    start = timezone.make_aware(datetime.combine(day, time.min))
    candidates = cases.filter(published_at__lt=start)
    low, high = _id_range(candidates)
    if low is None:  # a site whose every case is new: today's count
        candidates = cases
        low, high = _id_range(candidates)
    if low is None:
        return CaseOfTheDay(case=None)
    ordered = candidates.with_reveal_state(reveals).only("pk", "number").order_by("pk")
    point = day_point(day, low=low, high=high)
    chosen = ordered.filter(pk__gte=point).first() or ordered.first()
    if not chosen.revealed:
        return CaseOfTheDay(case=chosen)
    unknowns = ordered.filter(revealed=False)
    return CaseOfTheDay(case=chosen, seen=True, another=unknowns.filter(pk__gt=chosen.pk).first() or unknowns.first())


def _id_range(cases: QuerySet) -> tuple[int | None, int | None]:
    """Return the lowest and highest id of these cases in one query (two walks of the primary key's index)."""
    found = cases.order_by().aggregate(low=Min("pk"), high=Max("pk"))
    return found["low"], found["high"]
