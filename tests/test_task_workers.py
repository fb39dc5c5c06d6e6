"""Two task workers take jobs from one queue and run each job once (issue 16 §3; docs/decisions.md, "The task
queue for several hosts").

Real ``db_worker`` processes on a database of their own (PostgreSQL when the tests use it, where the claim is
``SELECT … FOR UPDATE SKIP LOCKED``; a SQLite file otherwise). Each job waits at a gate until both workers hold
one, so both are seen working at once; then they drain the queue (``--batch``) and exit.
"""

import collections
import json
import sqlite3

import dj_database_url
import psycopg

from tests.processes import wait_for
from tests.test_ingest_killed import ingest_workers, lease, site  # noqa: F401 - fixtures

JOBS = 16
TASK = "tests.worker_tasks.note_worker"

ENQUEUE = """
from tests.worker_tasks import note_worker
for number in range({jobs}):
    note_worker.enqueue(record={record!r}, gate={gate!r}, number=number)
"""

ROWS = "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path = %s"


def task_rows(url: str) -> list[tuple[str, list]]:
    """The queue's rows as the workers left them, read straight from the site's database."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(dj_database_url.parse(url)["NAME"], timeout=20) as connection:
            rows = connection.execute(ROWS.replace("%s", "?"), [TASK]).fetchall()
    else:
        with psycopg.connect(url) as connection:
            rows = connection.execute(ROWS, [TASK]).fetchall()
    return [(status, json.loads(ids) if isinstance(ids, str) else ids) for status, ids in rows]


def test_two_workers_share_one_queue_and_run_every_job_exactly_once(site, tmp_path):  # noqa: F811
    record, gate = tmp_path / "record.txt", tmp_path / "gate"
    queued = site["manage"](
        "shell", "--verbosity", "0", "-c", ENQUEUE.format(jobs=JOBS, record=str(record), gate=str(gate))
    )
    assert queued.returncode == 0, queued.stderr
    workers = [site["start"](f"worker{n}", "db_worker", "--no-reload", "--batch", "--interval", "0.05") for n in (1, 2)]

    def started() -> set[str]:
        lines = record.read_text().split("\n") if record.exists() else []
        return {line.split()[2] for line in lines if line.startswith("start")}

    wait_for(lambda: len(started()) == 2, "each worker to hold a job", seconds=60)
    gate.touch()
    for worker in workers:
        assert worker.wait(timeout=60) == 0

    lines = [line.split() for line in record.read_text().splitlines()]
    runs = collections.Counter((kind, int(number)) for kind, number, _ in lines)
    assert runs == {(kind, number): 1 for kind in ("start", "end") for number in range(JOBS)}, "each job ran once"
    by_process = collections.Counter(pid for kind, _, pid in lines if kind == "end")
    assert len(by_process) == 2 and min(by_process.values()) >= 1, by_process
    rows = task_rows(site["url"])
    assert len(rows) == JOBS
    assert all(status == "SUCCESSFUL" and len(worker_ids) == 1 for status, worker_ids in rows), rows
