"""The site's own processes in a test: ``manage.py`` commands run to their end, and long-running ones (server,
task worker, receiver) started in a session of their own with their output in a log; all stopped at the end."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


class SiteProcesses:
    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs = env, logs
        self.started: list[subprocess.Popen] = []

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
