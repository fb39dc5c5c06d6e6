"""Reads that every logged-in request makes, compiled to SQL once per database connection.

Django compiles a queryset to SQL each time it runs it. For the two reads of every logged-in request — the
session, then the user with their profile — compiling cost three to four times the round trip to PostgreSQL
(0.65 ms against 0.18 ms each on the bench machine; docs/benchmarks.md, "Pages against plain Django"). A
:class:`CompiledRead` has Django compile its queryset once per connection, with marks where the request's values go,
and runs that SQL again with the values in their place, its rows converted by the same compiler (a SQLite
timestamp read as one).
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet

# Where a connection keeps its compiled reads: on the connection object, so that they go with it (a thread's
# connection with its thread under runserver).
_COMPILED = "teachingfile_compiled_reads"


class CompiledRead:
    """A ``values_list`` queryset compiled once per connection and run with new values.

    ``build(*marks)`` returns the queryset; each mark (an ``int`` or ``str`` that no other parameter of the query
    equals) stands for a value passed to :meth:`rows`, of the same type, in the same order. A mark may only be
    compared exactly (``field=mark``): a lookup that prepares its value (``iexact``, ``contains``: escaped,
    wrapped in ``%``) would prepare the mark when compiled, and not the values that take its place.
    """

    def __init__(self, build: Callable[..., QuerySet], *marks: int | str):
        self._build = build
        self._marks = marks

    def rows(self, *values: int | str, using: str) -> list[tuple]:
        """Return the rows the queryset built with ``values`` would return."""
        if [type(value) for value in values] != [type(mark) for mark in self._marks]:
            raise TypeError(f"values {values!r} do not match the marks {self._marks!r}")
        connection = connections[using]
        compiled = connection.__dict__.setdefault(_COMPILED, {})
        if self not in compiled:
            compiled[self] = self._compile(using)
        compiler, sql, marked, positions = compiled[self]
        params = list(marked)  # a copy per call: threads that share a connection (a live test server) share these
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compile(self, using: str) -> tuple:
        compiler = self._build(*self._marks).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        params = tuple(params)
        positions = [params.index(mark) for mark in self._marks if params.count(mark) == 1]
        if len(positions) != len(self._marks):
            raise ValueError(f"each mark must appear once among the parameters: {params!r}")
        return compiler, sql, params, positions
