"""The site's own processes in a test: ``manage.py`` commands run to their end, and long-running ones (server,
task worker, receiver) started in a session of their own with their output in a log; all stopped at the end.

What a test reads of the site's database and media goes through one Django shell kept open for the test
(``SiteProcesses.shell``): a test that polls the state would otherwise start Django again on every look, a
second of CPU each time, taken from the processes it waits for.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
# The kept shell: runs each script it is sent (one JSON string a line), answers with its output and whether it failed.
SHELL_LOOP = """
import contextlib, io, json, sys, traceback
for line in sys.stdin:
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(json.loads(line), {"__name__": "__main__"})
        failed = False
    except Exception:
        output.write(traceback.format_exc())
        failed = True
    sys.stdout.write(json.dumps({"failed": failed, "output": output.getvalue()}) + "\\n")
    sys.stdout.flush()
"""


class SiteProcesses:
    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs = env, logs
        self.started: list[subprocess.Popen] = []
        self.kept_shell: subprocess.Popen | None = None

    def shell(self, script: str) -> str:
        """Run a script in the site's Django (its settings, database and media) and return what it printed."""
        if self.kept_shell is None:
            self.kept_shell = subprocess.Popen(
                [sys.executable, MANAGE, "shell", "--no-imports", "-c", SHELL_LOOP],
                env=self.env,
                cwd=settings.BASE_DIR,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        self.kept_shell.stdin.write(json.dumps(script) + "\n")
        self.kept_shell.stdin.flush()
        line = self.kept_shell.stdout.readline()
        assert line, "the kept shell ended"
        answer = json.loads(line)
        assert not answer["failed"], answer["output"]
        return answer["output"]

    def manage(self, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, MANAGE, *arguments], env=self.env, cwd=settings.BASE_DIR, capture_output=True, text=True
        )

    def start(self, name: str, *arguments: str) -> subprocess.Popen:
        """Start a command in the background, its output appended to ``<name>.log``."""
        with (self.logs / f"{name}.log").open("a") as log:
            process = subprocess.Popen(
                [sys.executable, MANAGE, *arguments],
                env=self.env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def stop(self) -> None:
        """Ask every started process to end (SIGTERM to its session); kill those still running 15 s later."""
        if self.kept_shell is not None:
            self.kept_shell.stdin.close()
            self.kept_shell.wait(timeout=15)
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for(condition, what: str, seconds: float = 180):
    """Poll ``condition`` until it gives something true, and return that; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"Timed out waiting for {what}")
