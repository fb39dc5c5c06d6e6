"""Reads: a collection as one reader works through it (progress, the next unknown), and the reader's own lists."""

import re
from dataclasses import dataclass
from datetime import date

from django.db.models import F, OuterRef, Subquery
from django.http import Http404, HttpRequest
from django.utils import timezone

from cases.models import Case, Reveal
from cases.selectors import reader_reveals
from quizzes.selectors import missed_cases_due

from .models import Collection

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


class State:
    """Where a reader stands with one case of a collection; none of them says what the case is."""

    UNKNOWN = "unknown"
    REVEALED = "revealed"
    MISSED = "missed"


@dataclass(frozen=True)
class Item:
    """One case of a collection as this reader stands with it."""

    case: Case
    position: int  # from 1, in the collection's order
    state: str
    review_due: date | None = None  # a missed case: the day it comes back as an unknown

    @property
    def review_is_due(self) -> bool:
        return self.review_due is not None and self.review_due <= timezone.localdate()


@dataclass(frozen=True)
class Progress:
    """A collection's cases as one reader stands with them, in the collection's order."""

    collection: Collection
    items: list[Item]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def revealed(self) -> int:
        return sum(item.state != State.UNKNOWN for item in self.items)

    @property
    def missed(self) -> int:
        return sum(item.state == State.MISSED for item in self.items)

    def item_of(self, case: Case) -> Item | None:
        return next((item for item in self.items if item.case.pk == case.pk), None)

    def next_unknown(self, after: Case | None = None) -> Case | None:
        """Return the first unknown after this case in the collection's order, wrapping round; never this case."""
        current = self.item_of(after) if after is not None else None
        start = current.position if current else 0
        ordered = self.items[start:] + self.items[:start]
        return next((item.case for item in ordered if item.state == State.UNKNOWN and item is not current), None)


def collection_for_reader(request: HttpRequest, slug: str) -> Collection:
    """Return the collection this reader may open, or raise 404."""
    collection = Collection.objects.visible_to(request.user).filter(slug=slug).select_related("owner").first()
    if collection is None:
        raise Http404("No such collection.")
    return collection


def collection_progress(request: HttpRequest, collection: Collection, *, cards: bool = False) -> Progress:
    """Read the collection's cases this reader may open, each unknown, revealed or missed, in two queries
    (three with ``cards``: the thumbnails and modalities of a case card) whatever its size.

    A case brought back for review is an unknown again until its new reveal (``reader_reveals``).
    """
    reveals = reader_reveals(request)
    missed = reveals.filter(case=OuterRef("pk"), self_assessment=Reveal.Assessment.MISSED)
    cases = (
        Case.objects.published()
        .visible_to(request.user)
        .filter(collection_entries__collection=collection)
        .with_reveal_state(reveals)
        .annotate(
            missed_at=Subquery(missed.values("revealed_at")[:1]),
            entry_order=F("collection_entries__order"),
            entry_id=F("collection_entries__pk"),
        )
        .order_by("entry_order", "entry_id")
    )
    if cards:
        cases = cases.for_list()
    cases = list(cases)
    missed_at = {case.pk: case.missed_at for case in cases if case.revealed and case.missed_at}
    due = missed_cases_due(request.user, missed_at) if missed_at else {}
    items = [
        Item(case=case, position=position, state=_state(case), review_due=due.get(case.pk))
        for position, case in enumerate(cases, start=1)
    ]
    return Progress(collection=collection, items=items)


def _state(case: Case) -> str:
    if not case.revealed:
        return State.UNKNOWN
    return State.MISSED if case.missed_at else State.REVEALED


@dataclass(frozen=True)
class Beside:
    """A case page opened from a collection: where the case stands in it, and the next unknown to open."""

    collection: Collection
    position: int
    total: int
    next_unknown: Case | None

    @property
    def query(self) -> str:
        """The parameter that carries the collection from one case page to the next."""
        return f"?collection={self.collection.slug}"


def collection_beside_case(request: HttpRequest, case: Case) -> Beside | None:
    """Return where this case stands in the collection named by ``?collection=``, when the reader may open the
    collection and it holds the case; None otherwise (a link's parameter is only a hint)."""
    slug = request.GET.get("collection", "")
    if not request.user.is_authenticated or not SLUG.fullmatch(slug):
        return None
    collection = Collection.objects.visible_to(request.user).filter(slug=slug).first()
    if collection is None:
        return None
    progress = collection_progress(request, collection)
    item = progress.item_of(case)
    if item is None:
        return None
    return Beside(
        collection=collection, position=item.position, total=progress.total, next_unknown=progress.next_unknown(case)
    )


def own_collections(user) -> list[Collection]:
    """Return the collections this user keeps for themselves, for "add to my collection"."""
    if not user.is_authenticated:
        return []
    return list(Collection.objects.filter(owner=user, visibility=Collection.Visibility.PRIVATE).order_by("title"))
