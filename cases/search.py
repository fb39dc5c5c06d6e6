"""Full-text search of the cases, one selector over PostgreSQL's full-text search and SQLite's FTS5.

Every case is searched by what a reader sees before the reveal: its number, title and brief history. The cases
this reader revealed (their reveals as they count now) are searched whole too: diagnosis, keywords, findings.
So a hidden word can add to the results only cases the reader has revealed, and the order is the rank of the
visible text alone: nothing about an unrevealed case's answer changes which cases match, how many, or in which
order. The search documents, visible and whole, are stored and kept by the database (migrations 0020 and 0026);
the syntax is the web's (websearch): words, "a phrase", -excluded, or.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchQuery,
    SearchQueryField,
    SearchRank,
    SearchVectorField,
)
from django.db import connections
from django.db.models import (
    BooleanField,
    Expression,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import Lookup

from .models import Case

MAX_TERMS = 8  # words or phrases: enough to find a case, few enough that no query runs long
ANSWERED = 500  # revealed cases found by their answer alone: a reader's most recent, should they have more
# Words PostgreSQL's English configuration drops; FTS5 keeps every word, so its queries drop them here.
STOP_WORDS = frozenset(
    {"a", "after", "an", "and", "are", "as", "at", "be", "before", "by", "for", "from", "had", "has", "have", "he"}
    | {"her", "his", "in", "is", "it", "its", "of", "on", "she", "that", "the", "their", "this", "to", "was"}
    | {"were", "which", "with"}
)


@dataclass(frozen=True)
class CaseSearch:
    """The cases that match a search, unordered, and the order that puts the best first."""

    cases: QuerySet
    ordering: tuple


def case_search(cases: QuerySet, *, text: str, reveals: QuerySet) -> CaseSearch:
    """Return the cases of ``cases`` that match ``text``: by their visible text, or whole for those revealed."""
    if _vendor(cases) == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        return _postgresql_search(cases, query=query, reveals=reveals)
    return _sqlite_search(cases, text=text, reveals=reveals)


def case_search_similar(cases: QuerySet, *, text: str, reveals: QuerySet) -> CaseSearch | None:
    """Search again with each word of ``text`` replaced by the nearest word of the cases' visible text.

    For a search that matched nothing, as a misspelling does: pg_trgm's trigram similarity against the table of
    visible words (migration 0021). The correction is part of the search's own queries (one lookup per word,
    evaluated once per query), not a query of its own; where no word was corrected, it matches nothing. None
    where there is no such table (SQLite).
    """
    if _vendor(cases) != "postgresql":
        return None
    words = re.findall(r"\w+", text.lower())[:MAX_TERMS]
    corrected = RawSQL(CORRECTED, [words], output_field=SearchQueryField())
    return _postgresql_search(cases, query=corrected, reveals=reveals)


# The search for each word, or for the most similar word of the visible text where one is similar enough (pg_trgm's %
# operator); null when no word changed (the search found nothing as it was). A tsquery, not its text: parsed once.
CORRECTED = """SELECT websearch_to_tsquery('english', CASE WHEN bool_or(nearest.word <> asked.word)
        THEN string_agg(COALESCE(nearest.word, asked.word), ' ' ORDER BY asked.n) END)
    FROM unnest(%s::text[]) WITH ORDINALITY AS asked (word, n)
    LEFT JOIN LATERAL (
        SELECT word FROM cases_search_word WHERE word %% asked.word ORDER BY word <-> asked.word, word LIMIT 1
    ) AS nearest ON true"""


def fts5_query(text: str) -> str:
    """Translate websearch syntax (words, "phrases", -exclusions, or) into an FTS5 query, every word quoted.

    Returns "" when nothing is left to look for (no word, or only exclusions).
    """
    groups: list[list[str]] = []
    excluded: list[str] = []
    joined = False
    for negated, quoted, word in re.findall(r'(-?)(?:"([^"]*)"?|([^\s"]+))', text)[: MAX_TERMS * 2]:
        if not negated and not quoted and word.lower() == "or":
            joined = bool(groups)
            continue
        tokens = re.findall(r"\w+", quoted or word)
        if not quoted:
            tokens = [token for token in tokens if token.lower() not in STOP_WORDS]
        if not tokens:
            continue
        phrase = '"' + " ".join(tokens) + '"'
        if negated:
            excluded.append(phrase)
        elif joined:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        joined = False
    if not groups:
        return ""
    positive = " AND ".join("(" + " OR ".join(group) + ")" for group in groups[:MAX_TERMS])
    return positive + "".join(f" NOT {phrase}" for phrase in excluded[:MAX_TERMS])


_NEWEST = (F("published_at").desc(), F("pk").desc())


def _vendor(cases: QuerySet) -> str:
    return connections[cases.db].vendor


class _Matches(Lookup):
    """``vector @@ query``: a query built by ``SearchQuery`` or a tsquery-valued expression (a correction)."""

    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ {rhs}", (*lhs_params, *rhs_params)


class _Document(Expression):
    """``cases_case.search_document``: the stored tsvector the model does not declare (PostgreSQL)."""

    output_field = SearchVectorField()

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        target = SearchVectorField()
        target.set_attributes_from_name("search_document")
        target.model = Case
        return Col(query.get_initial_alias(), target)


def _postgresql_search(cases: QuerySet, *, query: Expression, reveals: QuerySet) -> CaseSearch:
    visible = _Matches(_Document(), query)
    shown = Case.objects.filter(pk=OuterRef("case")).values(document=_Document())[:1]
    answered = reveals.filter(
        _WholeMatches(F("case"), query), ~_Matches(Subquery(shown, output_field=SearchVectorField()), query)
    )
    return CaseSearch(_matched(cases, visible, answered), (SearchRank(_Document(), query).desc(), *_NEWEST))


class _WholeMatches(Func):
    """Whether the stored whole document of the case in ``case`` matches the query (PostgreSQL, migration 0026).

    A scalar subquery, which PostgreSQL never pulls up into a join: one lookup by case per reveal, so the cost
    follows this reader's reveals however many cases there are.
    """

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        case, query = (compiler.compile(expression) for expression in self.get_source_expressions())
        sql = f"(SELECT document @@ {query[0]} FROM cases_case_full_document WHERE case_id = {case[0]})"
        return sql, (*query[1], *case[1])


def _matched(cases: QuerySet, visible, answered: QuerySet) -> QuerySet:
    """Keep the cases that match by their visible text, and the revealed ones that match by their answer.

    The second are read first (one short query): as a list of ids, both conditions are index lookups.
    """
    ids = list(answered.order_by("-revealed_at").values_list("case", flat=True)[:ANSWERED])
    return cases.filter(Q(visible) | Q(pk__in=ids)) if ids else cases.filter(visible)


class _Fts5Rank(Func):
    """Minus the BM25 rank of the visible text for the case in ``case``, null when it does not match (SQLite).

    The matches are ranked once per query (a materialized table), then looked up by case.
    """

    output_field = FloatField()
    template = (
        "(WITH ranked AS MATERIALIZED (SELECT rowid AS id, -bm25(cases_case_fts, 10.0, 10.0, 1.0) AS score "
        "FROM cases_case_fts WHERE cases_case_fts MATCH %(expressions)s) SELECT score FROM ranked WHERE id = {})"
    )

    def as_sql(self, compiler, connection, **extra_context):
        match, case = self.get_source_expressions()
        match_sql, match_params = compiler.compile(match)
        case_sql, case_params = compiler.compile(case)
        template = self.template.replace("%(expressions)s", match_sql).replace("{}", case_sql)
        return template, (*match_params, *case_params)


def _sqlite_search(cases: QuerySet, *, text: str, reveals: QuerySet) -> CaseSearch:
    expression = fts5_query(text)
    if not expression:
        return CaseSearch(cases.none(), _NEWEST)
    visible = RawSQL("SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s", [expression])
    whole = RawSQL("SELECT rowid FROM cases_case_full_fts WHERE cases_case_full_fts MATCH %s", [expression])
    answered = reveals.filter(case__in=whole).exclude(case__in=visible)
    rank = Coalesce(_Fts5Rank(Value(expression), F("pk")), Value(0.0))
    return CaseSearch(_matched(cases, Q(pk__in=visible), answered), (rank.desc(), *_NEWEST))
