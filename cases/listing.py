"""Pages of case lists that cost the same on page 1 and page 4,000: keyset pages, capped and cached counts.

A browsed list (the case list, its filters, a topic's cases) is in the order newest first, and a page starts
where the previous one ended: ``after`` (or ``before``) names the last (first) case shown, as its publication
time and id, and the next page is one range of an index ending in that order — no OFFSET walk. A search is in
order of rank, which no index holds: its pages are numbered, and only the first ``SEARCH_PAGES``.
Counts stop at ``COUNT_CAP`` ("more than 1,000 cases"): exact for a short list, one short index range for a
long one, never a count of every row; and a count is kept until the cases change, so a list every resident
opens (a filter, a search) is counted once, not once a request.
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.db.models import DateTimeField, F, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.http import QueryDict

from . import page_cache
from .search import case_search, case_search_similar

COUNT_CAP = 1000
SEARCH_PAGES = 10
CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEWEST = (F("published_at").desc(), F("pk").desc())


@dataclass(frozen=True)
class CasePage:
    """One page of a case list, with the query strings of its neighbours (None where there is none)."""

    cases: list
    count: int | None = None  # None: not counted (a topic's cases)
    previous: str | None = None
    next: str | None = None
    similar: bool = False  # the search matched nothing; these are spelt alike
    last_search_page: bool = False  # more matches than the pages show
    newest_first: bool = False  # a search with too many matches to rank

    @property
    def count_text(self) -> str:
        return count_text(self.count or 0) + (", newest first" if self.newest_first else "")


def capped_count(cases: QuerySet) -> int:
    """Count the cases up to ``COUNT_CAP`` + 1: exact for a short list, "more than" for a long one; kept until the
    cases change (``page_cache.kept_count``)."""
    return page_cache.kept_count(cases.order_by()[: COUNT_CAP + 1])


def count_text(count: int) -> str:
    """Say how many cases a capped count found: "1 case", "24 cases", "more than 1,000 cases"."""
    if count > COUNT_CAP:
        return f"more than {COUNT_CAP:,} cases"
    return f"{count} case" if count == 1 else f"{count} cases"


def case_list_page(cases: QuerySet, *, reveals: QuerySet, text: str, position: QueryDict, size: int) -> CasePage:
    """Return the page of ``cases`` at ``position`` (the request's query), searched for ``text`` if given."""
    if not text:
        return browse_page(cases, reveals=reveals, position=position, size=size, count=True)
    found = case_search(cases, text=text, reveals=reveals)
    page = _search_page(found.cases, found.ordering, reveals=reveals, position=position, size=size)
    if page.cases or page.count:
        return page
    similar = case_search_similar(cases, text=text, reveals=reveals)
    if similar is None:
        return page
    alike = _search_page(similar.cases, similar.ordering, reveals=reveals, position=position, size=size)
    return replace(alike, similar=True) if alike.count else page


def browse_page(cases: QuerySet, *, reveals: QuerySet, position: QueryDict, size: int, count: bool) -> CasePage:
    """Return one keyset page of ``cases``, newest first, from the ``after`` or ``before`` cursor."""
    after, before = _cursor(position.get("after")), _cursor(position.get("before"))
    shown = cases.with_reveal_state(reveals).for_list()
    if before:
        rows = list(shown.filter(GreaterThan(_row_of_case(), _row(*before))).order_by("published_at", "pk")[: size + 1])
        has_previous, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        if after:
            shown = shown.filter(LessThan(_row_of_case(), _row(*after)))
        rows = list(shown.order_by("-published_at", "-pk")[: size + 1])
        has_previous, has_next = after is not None, len(rows) > size
        rows = rows[:size]
    return CasePage(
        rows,
        count=capped_count(cases) if count else None,
        previous=f"before={cursor_token(rows[0])}" if rows and has_previous else None,
        next=f"after={cursor_token(rows[-1])}" if rows and has_next else None,
    )


def _search_page(cases: QuerySet, ordering: tuple, *, reveals: QuerySet, position: QueryDict, size: int) -> CasePage:
    """Return a numbered page of a search, best first; newest first when more than ``COUNT_CAP`` match.

    Ranking reads every match (10,000 rows cost 60–130 ms at 100,000 cases): past the cap, a rank tells a reader
    little, and newest first is one walk down the list's index until a page is found.
    """
    number = position.get("page", "1")
    number = min(int(number), SEARCH_PAGES) if re.fullmatch(r"[1-9][0-9]{0,3}", number) else 1
    start = (number - 1) * size
    count = capped_count(cases)
    newest_first = count > COUNT_CAP
    rows = []
    if count:  # exact below the cap: nothing to fetch, nor a card query to build (a misspelling's first search)
        shown = cases.with_reveal_state(reveals).for_list().order_by(*(NEWEST if newest_first else ordering))
        rows = list(shown[start : start + size + 1])
    has_more = len(rows) > size
    return CasePage(
        rows[:size],
        count=count,
        newest_first=newest_first,
        previous=f"page={number - 1}" if number > 1 else None,
        next=f"page={number + 1}" if has_more and number < SEARCH_PAGES else None,
        last_search_page=has_more and number == SEARCH_PAGES,
    )


def _cursor(token: str | None) -> tuple[datetime, int] | None:
    match = CURSOR.fullmatch(token or "")
    if match is None:
        return None
    try:
        return EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:  # past the year 9999: no case's place, so no cursor
        return None


def cursor_token(case) -> str:
    """Return the cursor that names this case's place in the list: its publication time (µs) and id."""
    return f"{(case.published_at - EPOCH) // timedelta(microseconds=1)}-{case.pk}"


class _Row(Func):
    """A row value, ``(a, b)``: compared as a whole, it is one range of a two-column index."""

    function = ""
    template = "(%(expressions)s)"
    output_field = DateTimeField()


def _row_of_case() -> _Row:
    return _Row(F("published_at"), F("pk"))


def _row(published_at: datetime, pk: int) -> _Row:
    return _Row(Value(published_at, output_field=DateTimeField()), Value(pk))
