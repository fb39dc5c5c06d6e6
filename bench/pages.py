"""Benchmark: page cost as the data grows (not a test; prints figures).

Builds a throw-away database with 10 and then 1,000 published cases (one
stage and one image each, plus one case with 300 images), then for the case
list, the home page and a case page prints the queries per request and the
requests per second of Django's in-process test client (no network, one
process). Run: ``.venv/bin/python bench/pages.py``.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teachingfile.settings.test")

import django  # noqa: E402

django.setup()

from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from cases.tests.factories import make_case, make_image, make_series, make_user  # noqa: E402

SECONDS = 3.0


def measure(client: Client, url: str) -> tuple[int, float]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    query_count = len(queries)  # read now: the next request clears the log
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        client.get(url)
        done += 1
    return query_count, done / (time.perf_counter() - start)


def add_cases(count: int) -> None:
    for _ in range(count):
        make_image(series=make_series(case=make_case()))


def main() -> None:
    # As Django's own test cases do: keep one connection across requests so queries can be counted.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    client = Client()
    client.force_login(make_user("bench-resident", "resident"))
    big_case = make_case()
    series = make_series(case=big_case)
    for order in range(300):
        make_image(series=series, order=order)
    rows = []
    for total in (10, 1000):
        add_cases(total - (0 if total == 10 else 10))
        for label, url in (
            ("case list (page of 24)", reverse("cases:case-list")),
            ("home", reverse("cases:home")),
            ("case page, 300 images", big_case.get_absolute_url()),
        ):
            queries, rate = measure(client, url)
            rows.append((total, label, queries, rate))
    print(f"{'cases':>6}  {'page':<24} {'queries':>7} {'req/s':>8}")  # noqa: T201
    for total, label, queries, rate in rows:
        print(f"{total:>6}  {label:<24} {queries:>7} {rate:>8.0f}")  # noqa: T201


if __name__ == "__main__":
    main()
