"""The site under concurrent use, run as ``make run`` runs it: a server process and the task worker on one database.

On a SQLite file (the default install), or on a PostgreSQL database of its own when ``DATABASE_URL`` names
PostgreSQL. The load comes from ``bench/concurrency.py``: invited sign-ups that then reveal a case, and saves
of cases in the authoring screen, from several threads at once while the worker imports a study.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SIGNUPS, SAVES, AUTHORS, SLICES = 6, 12, 3, 24

SETUP = """
from accounts.services import demo_accounts_ensure
from cases.tests.factories import make_case
demo_accounts_ensure()
make_case(number="tf101", diagnosis="Heterotopic ossification")
"""

WRITES = """
import json, re
from django.contrib.auth import get_user_model
from django_tasks_db.models import DBTaskResult
from cases.models import Case, Image, Reveal
residents = [user for user in get_user_model().objects.all() if re.fullmatch("r[0-9a-f]{8}", user.username)]
cases = list(Case.objects.filter(number__startswith="cc"))
print(json.dumps({
    "accounts": len(residents),
    "reveals": Reveal.objects.filter(user__in=residents, committed_answer__startswith="answer of").count(),
    "cases_with_last_save": sum(re.fullmatch(r".* save (\\d+) of \\1", case.brief_history) is not None
                                for case in cases),
    "images": Image.objects.filter(series__case__in=cases).count(),
    "import_ran": [
        (task.started_at.timestamp(), task.finished_at.timestamp())
        for task in DBTaskResult.objects.filter(task_path="ingest.tasks.ingest_job")
    ][0],
}))
"""


@pytest.fixture
def site(database_url, tmp_path):
    """Add the accounts and a published case, then start the server and the worker; yield the URL."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.processes",
        "TEACHINGFILE_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*arguments: str) -> str:
        return subprocess.run(
            [*manage, *arguments], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    run("shell", "--verbosity", "0", "-c", SETUP)
    port = _free_port()
    logs = {"server": tmp_path / "server.log", "worker": tmp_path / "worker.log"}
    commands = {
        "server": [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        "worker": [*manage, "db_worker", "--no-reload"],
    }
    processes = []
    try:
        for name, command in commands.items():
            with logs[name].open("w") as log:
                processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        _wait_for(url + "/accounts/login/")
        yield {"url": url, "logs": logs, "run": run}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str) -> None:
    for _ in range(300):
        try:
            with urlopen(url, timeout=5):
                return
        except (URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"The server did not answer at {url}")


def test_sign_ups_saves_and_reveals_during_an_import_get_no_server_error_and_all_are_kept(site):
    command = [sys.executable, str(ROOT / "bench" / "concurrency.py"), "--url", site["url"], "--json"]
    command += ["--signups", str(SIGNUPS), "--saves", str(SAVES), "--authors", str(AUTHORS), "--slices", str(SLICES)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    server_log = site["logs"]["server"].read_text()[-3000:]
    assert finished.stdout, f"the checker stopped: {finished.stderr[-2000:]}\n{server_log}"
    report = json.loads(finished.stdout)
    assert report["server_errors"] == 0, f"{report['failures']}\n{server_log}"
    assert report["import"]["status"] == "done", site["logs"]["worker"].read_text()[-3000:]
    assert report["signups"] == {"requested": SIGNUPS, "answered": SIGNUPS, "present": SIGNUPS}
    assert report["reveals"] == {"answered": SIGNUPS, "present": SIGNUPS}
    assert report["saves"] == {"requested": SAVES, "answered": SAVES, "cases": AUTHORS, "cases_with_last_save": AUTHORS}
    stored = json.loads(site["run"]("shell", "--verbosity", "0", "-c", WRITES))
    assert stored["accounts"] == SIGNUPS
    assert stored["reveals"] == SIGNUPS
    assert stored["cases_with_last_save"] == AUTHORS
    assert stored["images"] == SLICES
    started, finished = stored["import_ran"]
    assert started < report["load"]["finished"] and finished > report["load"]["started"], "imported during the load"
