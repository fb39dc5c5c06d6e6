"""A task for tests/test_task_workers.py: it notes which process ran it, before and after a gate the test opens."""

import os
import time
from pathlib import Path

from django_tasks import task


def _note(path: str, line: str) -> None:
    # One write of a short line to a file opened for appending: two processes' lines never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, f"{line}\n".encode())
    finally:
        os.close(descriptor)


@task()
def note_worker(*, record: str, gate: str, number: int) -> None:
    """Note the start, wait (20 s at most) for the gate file, then note the end, with this process's id."""
    _note(record, f"start {number} {os.getpid()}")
    deadline = time.monotonic() + 20
    while not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.02)
    _note(record, f"end {number} {os.getpid()}")
