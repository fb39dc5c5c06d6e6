"""Imports whose process is killed (SIGKILL) or stopped (SIGTERM) in their middle, run as a site runs them
(issue 13 §1).

Real processes on a database of their own (a SQLite file, or a PostgreSQL database when the tests use one):
``manage.py import_study``, and ``runserver`` with ``db_worker`` as ``make run`` starts them. The long series
(``imaging/tests/corpus/lifecycle.py``) makes an import last seconds, so the test can wait until the job's
processed count shows it is in the middle, then kill. Afterwards the media must hold no file that is in no
image (nor an image without its file), the spool nothing, and the job must have ended.
"""

import io
import json
import os
import signal
import sqlite3
import subprocess
import time
import zipfile
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings

from bench.concurrency import Browser, Report, form_fields
from imaging.tests.corpus.lifecycle import SLICES, make_long_ct_series
from tests.processes import SiteProcesses, wait_for
from tests.test_concurrency import _free_port, _wait_for

ROOT = Path(settings.BASE_DIR)
LEASE = 2  # seconds: the lease the processes run with, so a test need not wait half a minute
MIDDLE = SLICES // 6  # files processed before the kill: well inside the import, well before its end

SETUP = """
from accounts.services import demo_accounts_ensure
from cases.tests.factories import make_case
accounts = demo_accounts_ensure()
make_case(number="tf101", status="draft", authors=[accounts["faculty"]])
"""

STATE = """
import json
from pathlib import Path
from django.conf import settings
from django_tasks_db.models import DBTaskResult
from cases.models import Image
from ingest.models import IngestJob
root = Path(settings.MEDIA_ROOT)
held = {name for row in Image.objects.values_list("file", "thumbnail", "medium", "dicom_file") for name in row if name}
stems = {Path(name).stem for name in held if name.startswith("dicom/")}
stored = [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]
spool = Path(settings.TEACHINGFILE_UPLOAD_SPOOL)
print(json.dumps({
    "jobs": [
        {"status": job.status, "attempts": job.attempts, "cleaned": job.cleaned, "report": job.report}
        for job in IngestJob.objects.order_by("pk")
    ],
    "images": Image.objects.count(),
    "orphans": sorted(name for name in stored if name not in held
                      and not (name.startswith("values/") and name.split("/")[1] in stems)),
    "missing": sorted(name for name in held if not (root / name).is_file()),
    "spooled": sorted(str(path) for path in spool.rglob("*")) if spool.exists() else [],
    "tasks": [
        [task.status, task.exception_class_path]
        for task in DBTaskResult.objects.filter(task_path="ingest.tasks.ingest_job").order_by("enqueued_at")
    ],
}))
"""


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "series"
    make_long_ct_series(folder)
    return folder


@pytest.fixture
def lease() -> int:
    """The lease the processes run with (a module that imports ``site`` may override it)."""
    return LEASE


@pytest.fixture
def ingest_workers() -> int:
    """The import processes of each command or task worker (a test may parametrize it)."""
    return 1


@pytest.fixture
def site(database_url, tmp_path, lease, ingest_workers):
    """The environment of the site's processes on its migrated database, a draft case tf101 made."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.processes",
        "TEACHINGFILE_MEDIA_ROOT": str(tmp_path / "media"),
        "TEACHINGFILE_UPLOAD_SPOOL": str(tmp_path / "spool"),
        "TEACHINGFILE_INGEST_WORKERS": str(ingest_workers),
        "TEACHINGFILE_INGEST_LEASE_SECONDS": str(lease),
        "PYTHONUNBUFFERED": "1",
    }
    processes = SiteProcesses(env, tmp_path)
    manage, start = processes.manage, processes.start

    def state() -> dict:
        return json.loads(processes.shell(STATE))

    processes.shell(SETUP)
    try:
        yield {
            "manage": manage,
            "shell": processes.shell,
            "start": start,
            "state": state,
            "url": database_url,
            "logs": tmp_path,
        }
    finally:
        processes.stop()


LATEST = """
SELECT status, phase, processed, attempts, cleaned,
       (SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE task_path = 'ingest.tasks.ingest_job'),
       (SELECT COUNT(*) FROM django_tasks_database_dbtaskresult
        WHERE task_path = 'ingest.tasks.ingest_job' AND status = 'RUNNING')
FROM cases_ingestjob ORDER BY id DESC LIMIT 1
"""


def latest_job(url: str) -> dict | None:
    """The newest import job's progress and its task rows, read straight from the site's database."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(dj_database_url.parse(url)["NAME"], timeout=20) as connection:
            row = connection.execute(LATEST).fetchone()
    else:
        with psycopg.connect(url) as connection:
            row = connection.execute(LATEST).fetchone()
    names = ("status", "phase", "processed", "attempts", "cleaned", "tasks", "tasks_running")
    return dict(zip(names, row, strict=True)) if row else None


def in_the_middle(url: str, *, phase: str, attempts: int | None = None, files: int = MIDDLE):
    """A check that the newest job's run (its first, or the retry ``attempts``) has processed ``files`` files.

    Without ``attempts`` it is the command's job, which has no task row.
    """

    def check():
        job = latest_job(url)
        if not job or job["phase"] != phase or job["processed"] < files:
            return None
        if attempts is None or (job["attempts"] == attempts and job["tasks_running"] == 1):
            return job
        return None

    return check


def ended(url: str, status: str):
    """A check that the newest job has ended with ``status`` and deleted what it wrote that is in no image."""
    return lambda: (job := latest_job(url)) and job["status"] == status and job["cleaned"] and job


def kill(process: subprocess.Popen) -> None:
    """Kill the process as the kernel's OOM killer or a crash would: no signal handler, no clean-up."""
    process.send_signal(signal.SIGKILL)
    process.wait()


def assert_clean(state: dict) -> None:
    assert state["orphans"] == [], f"{len(state['orphans'])} files in no image"
    assert state["missing"] == [], "an image lost its file"
    assert state["spooled"] == [], "the raw upload is gone"


def test_a_killed_import_study_is_closed_by_the_sweep_with_nothing_left_and_a_rerun_imports_everything(site, series):
    command = site["start"]("import", "import_study", str(series), "--case", "tf101")
    middle = wait_for(in_the_middle(site["url"], phase="deidentify"), "the command to be in the middle")
    assert command.poll() is None, "still running when killed"
    kill(command)
    left = site["state"]()
    assert left["orphans"] and left["jobs"][0]["status"] == "running", "what a killed command leaves (issue 13)"

    time.sleep(LEASE + 0.5)
    assert site["manage"]("ingest_sweep").returncode == 0
    swept = site["state"]()
    assert_clean(swept)
    [job] = swept["jobs"]
    assert (job["status"], job["cleaned"], swept["images"]) == ("failed", True, 0)
    indexes = [index for index, _, _ in job["report"]["files"]]
    assert indexes == list(range(1, len(indexes) + 1)) and len(indexes) >= middle["processed"] - 5

    rerun = site["manage"]("import_study", str(series), "--case", "tf101")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after = site["state"]()
    assert after["jobs"][-1]["status"] == "done" and after["images"] == SLICES
    assert_clean(after)


def upload_series(site: dict, series: Path) -> None:
    """Upload the series as one zip as the case's author would (the server started on the first upload)."""
    if "author" not in site:
        port = _free_port()
        site["start"]("server", "runserver", "--noreload", f"127.0.0.1:{port}")
        _wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        site["author"] = Browser(f"http://127.0.0.1:{port}", Report())
        site["author"].log_in("faculty", "faculty")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(series.iterdir()):
            archive.write(path, path.name)
    case_id = json.loads(site["shell"](CASE_ID))
    path = f"/admin/cases/case/{case_id}/dicom/"
    fields = form_fields(site["author"].get("import", path).text, "csrfmiddlewaretoken")
    answer = site["author"].post_files("import", path, fields, {"series.zip": buffer.getvalue()})
    assert answer.status == 200, answer.text[:500]
    assert '"IM00001.dcm"' in answer.text, "the answer lists the files by name"


CASE_ID = "import json; from cases.models import Case; print(json.dumps(Case.objects.get(number='tf101').pk))"


def test_a_worker_killed_mid_web_import_is_replaced_and_its_import_completes_with_nothing_left(site, series):
    upload_series(site, series)
    worker = site["start"]("worker", "db_worker", "--no-reload")
    wait_for(in_the_middle(site["url"], phase="deidentify", attempts=0), "the worker to be in the middle")
    kill(worker)
    left = site["state"]()
    assert left["tasks"] == [["RUNNING", ""]] and left["orphans"], "what a killed worker leaves (issue 13)"

    site["start"]("worker", "db_worker", "--no-reload")  # as a process manager restarts it
    done = wait_for(ended(site["url"], "done"), "the retry")
    assert done["attempts"] == 1
    state = site["state"]()
    assert state["images"] == SLICES
    assert state["tasks"] == [["FAILED", "ingest.lease.WorkerLost"], ["SUCCESSFUL", ""]]
    assert_clean(state)


@pytest.fixture(scope="module")
def long_series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "long"
    make_long_ct_series(folder, slices=LONG)
    return folder


# Slices for the run killed while it renders: rendering is the import's quick end (the frames were drawn as the
# files were de-identified), and with the default series it could end before the kill landed.
LONG = 600


def test_a_web_import_whose_worker_is_killed_twice_is_closed_with_nothing_left_and_an_upload_again_imports_all(
    site, long_series
):
    series = long_series
    upload_series(site, series)
    worker = site["start"]("worker", "db_worker", "--no-reload")
    wait_for(in_the_middle(site["url"], phase="deidentify", attempts=0), "the first run to be in the middle")
    kill(worker)
    worker = site["start"]("worker", "db_worker", "--no-reload")
    wait_for(in_the_middle(site["url"], phase="render", attempts=1), "the second run to be in the middle")
    kill(worker)
    worker = site["start"]("worker", "db_worker", "--no-reload")
    wait_for(ended(site["url"], "failed"), "the job to be closed")
    state = site["state"]()
    [job] = state["jobs"]
    assert job["attempts"] == 2 and job["cleaned"]
    assert [index for index, _, _ in job["report"]["files"]] == list(range(1, LONG + 1)), "every file reported"
    assert state["tasks"] == [["FAILED", "ingest.lease.WorkerLost"]] * 2
    assert state["images"] == 0
    assert_clean(state)

    upload_series(site, series)
    wait_for(ended(site["url"], "done"), "the new upload's import")
    state = site["state"]()
    assert state["images"] == LONG
    assert_clean(state)


@pytest.fixture(scope="module")
def short_series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "short"
    make_long_ct_series(folder, slices=SHORT)
    return folder


SHORT = 150  # slices: the paused run is stopped at STOPPED_AT of them, while it de-identifies
STOPPED_AT = 20


def test_a_worker_paused_past_its_lease_wakes_up_after_the_retry_and_changes_nothing(site, short_series):
    """SIGSTOP, not SIGKILL: the paused run comes back after another worker has run the job again and ended it."""
    upload_series(site, short_series)
    paused = site["start"]("paused", "db_worker", "--no-reload")
    wait_for(
        in_the_middle(site["url"], phase="deidentify", attempts=0, files=STOPPED_AT),
        "the first run to be in the middle",
    )
    os.killpg(paused.pid, signal.SIGSTOP)
    site["start"]("worker", "db_worker", "--no-reload")  # its lease check takes the job over, then it runs it
    wait_for(ended(site["url"], "done"), "the retry")
    os.killpg(paused.pid, signal.SIGCONT)
    wait_for(lambda: site["state"]()["tasks"][0] == ["FAILED", "ingest.lease.LeaseLost"], "the paused run to stop", 30)
    assert paused.poll() is None, "the paused worker goes on to its next task"
    state = site["state"]()
    [job] = state["jobs"]
    assert (job["status"], job["attempts"], job["cleaned"]) == ("done", 1, True)
    assert [outcome for _, outcome, _ in job["report"]["files"]] == ["imported"] * SHORT
    assert latest_job(site["url"])["processed"] == SHORT, "the paused run's progress did not overwrite the retry's"
    assert state["images"] == SHORT
    assert state["tasks"] == [["FAILED", "ingest.lease.LeaseLost"], ["SUCCESSFUL", ""]]
    assert_clean(state)
    assert "a run that lost its claim" in (site["logs"] / "paused.log").read_text()


@pytest.mark.parametrize("ingest_workers", [2])
def test_a_worker_stopped_as_systemd_stops_it_finishes_the_import_in_hand_then_exits(site, short_series):
    """``systemctl stop`` sends SIGTERM to every process of the unit, the import's own processes included
    (deploy/teachingfile-worker.service): the worker ends the job it holds, then exits of itself."""
    upload_series(site, short_series)
    worker = site["start"]("worker", "db_worker", "--no-reload")
    wait_for(
        in_the_middle(site["url"], phase="deidentify", attempts=0, files=STOPPED_AT), "the run to be in the middle"
    )
    os.killpg(worker.pid, signal.SIGTERM)
    assert worker.wait(timeout=120) == 0
    state = site["state"]()
    [job] = state["jobs"]
    assert (job["status"], job["attempts"]) == ("done", 0)
    assert [outcome for _, outcome, _ in job["report"]["files"]] == ["imported"] * SHORT
    assert state["images"] == SHORT
    assert state["tasks"] == [["SUCCESSFUL", ""]]
    assert_clean(state)
