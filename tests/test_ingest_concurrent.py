"""Several authors upload studies at the same time, as the site runs them (issue 13: test the way the site runs).

Real processes on a database of their own (a SQLite file, or a PostgreSQL database when the tests use one):
``runserver`` and two ``db_worker`` processes, so two imports render while a third waits and the authors' pages
poll their progress. Every job must end done with all its images, no process may log a locked database or a
traceback, and the media must hold no file that is in no image.
"""

import io
import json
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest

from bench.concurrency import Browser, Report, form_fields
from imaging.tests.corpus.lifecycle import make_long_ct_series
from tests.test_concurrency import _free_port, _wait_for
from tests.test_ingest_killed import assert_clean, ingest_workers, site  # noqa: F401 - fixtures

AUTHORS = 3
SLICES = 40  # per study: small, so the test stays short; enough that the imports overlap

CASES = f"""
import json
from cases.tests.factories import make_case, make_user
ids = [make_case(number=f"tc{{n}}", status="draft", authors=[make_user(f"author{{n}}", "faculty")]).pk
       for n in range({AUTHORS})]
print(json.dumps(ids))
"""


@pytest.fixture
def lease() -> int:
    return 30  # the site's default: no import here is slow enough to lose it


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


def author_imports(base: str, number: int, case_id: int, study: bytes, barrier: threading.Barrier, ended: dict):
    """Log in, wait for the others, upload the study, then poll the job's progress as the page does until it ends."""
    author = Browser(base, Report())
    author.log_in(f"author{number}", "pw-for-tests")
    path = f"/admin/cases/case/{case_id}/dicom/"
    fields = form_fields(author.get("import", path).text, "csrfmiddlewaretoken")
    barrier.wait()
    answer = author.post_files("import", path, fields, {f"study{number}.zip": study})
    status_url = re.search(r'data-status-url="([^"]+)"', answer.text).group(1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = author.get("progress", status_url, {"Accept": "application/json"})
        if state.status != 200 or json.loads(state.text)["status"] in ("done", "failed"):
            ended[number] = (answer.status, state.status, json.loads(state.text) if state.status == 200 else None)
            return
        time.sleep(0.2)


def test_concurrent_web_uploads_all_end_done_with_every_image_and_nothing_left(site, tmp_path):  # noqa: F811
    studies = []
    for number in range(AUTHORS):
        make_long_ct_series(tmp_path / f"study{number}", slices=SLICES)
        studies.append(zipped(tmp_path / f"study{number}"))
    case_ids = json.loads(site["manage"]("shell", "--verbosity", "0", "-c", CASES).stdout)
    port = _free_port()
    site["start"]("server", "runserver", "--noreload", f"127.0.0.1:{port}")
    site["start"]("worker1", "db_worker", "--no-reload")
    site["start"]("worker2", "db_worker", "--no-reload")
    base = f"http://127.0.0.1:{port}"
    _wait_for(f"{base}/accounts/login/")

    barrier, ended = threading.Barrier(AUTHORS), {}
    authors = [
        threading.Thread(target=author_imports, args=(base, number, case_ids[number], studies[number], barrier, ended))
        for number in range(AUTHORS)
    ]
    for thread in authors:
        thread.start()
    for thread in authors:
        thread.join(timeout=90)

    assert sorted(ended) == list(range(AUTHORS)), "every author's page saw the import end"
    for answer, polled, job in ended.values():
        assert (answer, polled, job["status"]) == (200, 200, "done"), job
        assert job["processed"] == job["total"] == SLICES
    state = site["state"]()
    assert [job["status"] for job in state["jobs"]] == ["done"] * AUTHORS
    assert [job["attempts"] for job in state["jobs"]] == [0] * AUTHORS
    assert state["images"] == AUTHORS * SLICES
    assert state["tasks"] == [["SUCCESSFUL", ""]] * AUTHORS
    assert_clean(state)
    for log in sorted(site["logs"].glob("*.log")):
        text = log.read_text()
        assert "database is locked" not in text and "Traceback" not in text, f"{log.name}:\n{text[-3000:]}"
