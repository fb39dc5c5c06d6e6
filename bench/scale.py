"""Benchmark: the case list, its filters, search, home and a topic page at 10,000 and 100,000 cases.

Not a test; prints figures. Makes a throw-away PostgreSQL database (``search_bench_scale`` on
``--server``, dropped at the end unless ``--keep``; ``BENCH_DATABASE_PREFIX`` replaces ``search_bench`` so that
runs of several people stay apart), migrates it, fills it with published cases in bulk
(``INSERT … SELECT`` over ``generate_series``: one presented stage and one image each, every tenth case with a
second stage shown after the reveal), then for each size measures every page with Django's in-process test client
as a logged-in resident who revealed 200 cases: the pages are visited in rounds (a, b, c, … then again), each
three times (cold, after a change to the cases; anew, the reader's kept pages made stale; kept: ``measure``), and
the per-request p50 and p95 of each, the queries per request and the database's own time are printed, with the
slowest query's plan under ``--explain``.
Run: ``.venv/bin/python bench/scale.py [--sizes 10000,100000] [--rounds 30] [--explain]``.
"""

import argparse
import gc
import os
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teachingfile.settings.test")

DATABASE = os.environ.get("BENCH_DATABASE_PREFIX", "search_bench") + "_scale"

# The visible text is drawn from these; the hidden diagnosis from DIAGNOSES. "fracture" is in a tenth of the
# histories, as a common word is.
PARTS = ["hip", "knee", "shoulder", "wrist", "ankle", "spine", "chest", "elbow", "pelvis", "thigh", "neck", "foot"]
COMPLAINTS = ["pain", "swelling", "stiffness", "a lump", "weakness", "a limp", "numbness", "clicking"]
PEOPLE = ["runner", "teenager", "footballer", "gardener", "child", "climber", "dancer", "swimmer", "cyclist"]
EVENTS = ["after a fall", "for three weeks", "at night", "on exertion", "since a twisting injury", "for a year"]
DIAGNOSES = ["Osteoid osteoma", "Stress fracture", "Heterotopic ossification", "Osteosarcoma", "Gout", "Bursitis"]
MODALITIES = ["XR", "XR", "XR", "CT", "CT", "MR", "MR", "US", "NM", "PT"]
REGIONS = ["pelvis", "lower_limb", "upper_limb", "spine", "chest", "abdomen", "brain", "head_neck", "whole_body"]


def sql_array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + word.replace("'", "''") + "'" for word in words) + "]"


def pick(words: list[str], seed: str) -> str:
    """A deterministic pseudo-random element of ``words`` for row ``n`` (hashing the row and a seed)."""
    return f"({sql_array(words)})[1 + mod(abs(hashtext(n::text || '{seed}')), {len(words)})]"


def add_cases(cursor, start: int, stop: int, topic_id: int) -> None:
    """Insert cases ``start`` to ``stop - 1`` (published, a minute apart) with their stages and images."""
    cursor.execute(
        f"""INSERT INTO cases_case (number, title, credit, status, created, updated, published_at, difficulty,
            quality, patient_sex, region, acr_anatomy, acr_pathology, keywords, brief_history, full_history,
            diagnosis, discussion, management, rehabilitation, teaching_points, date_offset_days, deid_secret,
            access, is_demo, topic_id)
        SELECT 'bn' || n, initcap({pick(PARTS, "t")}) || ' ' || {pick(COMPLAINTS, "c")} || ' in a '
                || {pick(PEOPLE, "p")},
            '', 'published', now(), now(), timestamp '2020-01-01' + n * interval '1 minute',
            1 + mod(abs(hashtext(n::text || 'd')), 5), 3, 'U', {pick(REGIONS, "r")}, '', '', 'bench',
            'A ' || {pick(PEOPLE, "q")} || ' with ' || {pick(COMPLAINTS, "k")} || ' in the ' || {pick(PARTS, "u")}
                || ' ' || {pick(EVENTS, "e")} || CASE WHEN mod(n, 10) = 0 THEN ', to rule out a fracture.' ELSE '.' END,
            '', {pick(DIAGNOSES, "x")} || ' of the ' || {pick(PARTS, "u")}, '', '', '', '', -400, '\\x00'::bytea,
            CASE WHEN mod(n, 20) = 7 THEN 'private' ELSE 'institution' END, false,
            CASE WHEN n <= 500 THEN {topic_id} END
        FROM generate_series(%s, %s) AS n""",
        [start, stop - 1],
    )
    cursor.execute(
        f"""INSERT INTO cases_series ("order", modality, phase, plane, sequence, technique, caption, after_reveal,
            case_id, body_part, label_confirmed, series_uid, window_preset)
        SELECT s.k, CASE WHEN s.k = 1 THEN {pick(MODALITIES, "m")} ELSE 'CT' END, '', '', '', '', '', s.k = 2, c.id,
            '', true, '', ''
        FROM cases_case c, LATERAL (SELECT generate_series(1, CASE WHEN mod(c.id, 10) = 0 THEN 2 ELSE 1 END) AS k) s,
            LATERAL (SELECT c.id AS n) AS r
        WHERE c.number LIKE 'bn%%' AND substr(c.number, 3)::int >= %s""",
        [start],
    )
    cursor.execute(
        """INSERT INTO cases_image ("order", file, thumbnail, width, height, caption, alt_text, series_id,
            dicom_file, frame_number, held_for_review, instance_uid, masks, is_key, text_regions, medium,
            orientation, view)
        SELECT 1, 'images/00/' || md5(s.id::text) || '.png', 'images/00/' || md5(s.id::text || 't') || '.jpg', 512,
            512, '', '', s.id, '', 0, false, '', '[]', false, '[]', '', '[]', ''
        FROM cases_series s WHERE NOT EXISTS (SELECT 1 FROM cases_image i WHERE i.series_id = s.id)"""
    )


def pages(topic) -> list[tuple[str, str]]:
    from django.urls import reverse

    from cases.listing import cursor_token
    from cases.models import Case

    listing = reverse("cases:case-list")
    deep = Case.objects.published().order_by("published_at", "pk")[120]  # among the oldest: the list's far end
    deep_cursor = cursor_token(deep)
    return [
        ("home", reverse("cases:home")),
        ("list, first page", listing),
        ("list, deep page", f"{listing}?after={deep_cursor}"),
        ("filter modality=NM", f"{listing}?modality=NM"),
        ("filter modality=CT", f"{listing}?modality=CT"),
        ("filter region=chest", f"{listing}?region=chest"),
        ("filter difficulty=5", f"{listing}?difficulty=5"),
        ("filters region+diff.+XR", f"{listing}?region=pelvis&difficulty=2&modality=XR"),
        ("search fracture", f"{listing}?q=fracture"),
        ("search knee pain runner", f"{listing}?q=knee+pain+runner"),
        ("search misspelt fractrue", f"{listing}?q=fractrue"),
        ("search revealed diagnosis", f"{listing}?q=osteosarcoma"),
        ("search + filter", f"{listing}?q=hip+pain&region=pelvis"),
        ("topic page (500 cases)", topic.get_absolute_url()),
    ]


class QueryClock:
    """Time every query of a request (``connection.execute_wrapper``): the part of a page that grows with data."""

    def __init__(self) -> None:
        self.seconds, self.count, self.slowest, self.queries = 0.0, 0, (0.0, "", None), []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - start
            self.seconds += spent
            self.count += 1
            self.queries.append((sql, params))
            if spent > self.slowest[0]:
                self.slowest = (spent, sql, params)


def measure(client, urls: list[tuple[str, str]], rounds: int, reader_id: int) -> tuple[dict, tuple[int, float]]:
    """Visit every page three times per round; return per page the wall times and query times (ms), the queries
    per request and the slowest query (ms, SQL) seen, for each of the three.

    - cold: after a change to the cases (``page_cache.content_changed``, as any author's save makes it), so the
      page computes everything: its counts, the cards, its queries (what the first reader after an edit pays);
    - anew: the reader's kept pages (``cases.reader_pages``) made stale, as their next reveal makes them, so the
      page renders with its queries, the counts and cards kept since the cases last changed (the usual request);
    - kept: the same page again, the reader's kept copy.

    The garbage collections during the measured rounds are returned too: (how many, the longest in ms).
    """
    from django.db import connection

    from cases.page_cache import content_changed
    from cases.reader_pages import reader_changed

    def fetch(url: str) -> tuple[float, QueryClock]:
        clock = QueryClock()
        start = time.perf_counter()
        with connection.execute_wrapper(clock):
            assert client.get(url).status_code == 200, url
        return (time.perf_counter() - start) * 1000, clock

    figures = {
        label: {
            "wall": [],
            "sql": [],
            "cold": [],
            "kept": [],
            "queries": set(),
            "cold queries": set(),
            "slowest": (0.0, "", None),
        }
        for label, _ in urls
    }
    pauses = CollectorPauses()
    try:
        for round_number in range(rounds + 1):  # round 0 warms up
            if round_number == 1:
                gc.callbacks.append(pauses)
            for label, url in urls:
                content_changed()
                reader_changed(reader_id)
                cold, cold_clock = fetch(url)
                reader_changed(reader_id)
                wall, clock = fetch(url)
                kept, _ = fetch(url)
                page = figures[label]
                if round_number == 0:
                    page["server"] = server_time(cold_clock.queries)
                    continue
                page["wall"].append(wall)
                page["cold"].append(cold)
                page["kept"].append(kept)
                page["sql"].append(clock.seconds * 1000)
                page["queries"].add(clock.count)
                page["cold queries"].add(cold_clock.count)
                page["slowest"] = max(page["slowest"], cold_clock.slowest, key=lambda slowest: slowest[0])
    finally:
        if pauses in gc.callbacks:
            gc.callbacks.remove(pauses)
    return figures, (len(pauses.seconds), max(pauses.seconds, default=0.0) * 1000)


class CollectorPauses:
    """A ``gc.callbacks`` entry that records how long each garbage collection took (s)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.seconds.append(time.perf_counter() - self.started)


def server_time(queries: list) -> float:
    """Return the database's own time for a page's queries (ms): the sum over its queries of the least
    execution time that EXPLAIN ANALYZE reports in three runs, the figure least disturbed by a busy machine."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            runs = []
            for _ in range(3):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                runs.append(cursor.fetchone()[0][0]["Execution Time"])
            total += min(runs)
    return total


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) " + sql, params)
        return "\n".join("      " + row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database for a look with psql")
    arguments = parser.parse_args()
    import psycopg

    with psycopg.connect(f"{arguments.server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = f"{arguments.server}/{DATABASE}"
    try:
        run(arguments)
    finally:
        from django.db import connections

        connections.close_all()
        if not arguments.keep:
            with psycopg.connect(f"{arguments.server}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def run(arguments) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from cases.models import Case, Reveal, Topic
    from cases.page_cache import content_changed
    from cases.tests.factories import make_user

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    setup_test_environment()
    call_command("migrate", verbosity=0)
    # Frozen once, as teachingfile/wsgi.py freezes a server's process after loading the URLs: what the requests
    # leave behind from then on stays for the collector to walk, as it does in a server that has run a while.
    import_module(settings.ROOT_URLCONF)
    gc.freeze()
    topic = Topic.objects.create(name="Bench topic", slug="bench-topic", summary="Five hundred cases.")
    resident = make_user("bench-resident", "resident")
    client = Client()
    client.force_login(resident)
    done, results = 0, {}
    for size in [int(size) for size in arguments.sizes.split(",")]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            add_cases(cursor, done + 1, size + 1, topic.pk)
        content_changed()  # written in SQL, past the signals that make kept counts and cards stale
        done = size
        Reveal.objects.bulk_create(
            Reveal(case=case, user=resident)
            for case in Case.objects.exclude(reveals__user=resident).filter(access="institution")[:200]
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"{size:,} cases loaded and analysed in {time.perf_counter() - started:.0f} s")  # noqa: T201
        results[size], collector = measure(client, pages(topic), arguments.rounds, resident.pk)
        report(size, results[size], collector, explain_slowest=arguments.explain)
    if len(results) > 1:
        growth(results)


def report(size: int, figures: dict, collector: tuple[int, float], *, explain_slowest: bool) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n{size:,} cases, per request (ms), in-process test client; load average {load}")  # noqa: T201
    header = (
        f"{'page':<28} {'p50':>6} {'p95':>6} {'SQL p50':>8} {'queries':>8} {'cold p50':>9} {'cold p95':>9} "
        f"{'queries':>8} {'DB own':>7} {'kept p50':>9} {'kept p95':>9}"
    )
    print(header)  # noqa: T201
    for label, page in figures.items():
        wall, sql, cold, kept = page["wall"], page["sql"], page["cold"], page["kept"]
        queries, cold_queries = (counts(page[name]) for name in ("queries", "cold queries"))
        print(  # noqa: T201
            f"{label:<28} {statistics.median(wall):>6.1f} {p95(wall):>6.1f} {statistics.median(sql):>8.1f} "
            f"{queries:>8} {statistics.median(cold):>9.1f} {p95(cold):>9.1f} {cold_queries:>8} "
            f"{page['server']:>7.2f} {statistics.median(kept):>9.1f} {p95(kept):>9.1f}"
        )
        if explain_slowest:
            print(explain(*page["slowest"][1:]))  # noqa: T201
    collections, longest = collector
    print(f"garbage collections during the measured rounds: {collections}, the longest {longest:.1f} ms")  # noqa: T201


def counts(seen: set[int]) -> str:
    return "/".join(str(count) for count in sorted(seen))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def growth(results: dict) -> None:
    """Print each page's database time at both sizes and, on paper, at 1,000,000 cases: the line through the two
    measured points (a fixed part plus a part per case), and the page's p50 with that database time instead."""
    small, large = min(results), max(results)
    print(f"\nDatabase's own time per page (ms) from {small:,} to {large:,} cases; 1,000,000 on paper")  # noqa: T201
    print(f"{'page':<28} {small:>9,} {large:>9,} {'growth':>7} {'DB at 1M':>9} {'page p50 at 1M':>15}")  # noqa: T201
    for label in results[large]:
        before, after = (results[size][label]["server"] for size in (small, large))
        per_case = max(after - before, 0.0) / (large - small)
        at_million = after + per_case * (1_000_000 - large)
        wall = statistics.median(results[large][label]["wall"])
        print(  # noqa: T201
            f"{label:<28} {before:>9.2f} {after:>9.2f} {after / before:>6.2f}× {at_million:>9.1f} "
            f"{wall - after + at_million:>15.1f}"
        )


if __name__ == "__main__":
    main()
