"""`make run`'s processes (web server, task worker, DICOM receiver) share one cache, so that what one of them
writes makes the pages the web server keeps stale."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def in_a_make_run_process(code: str) -> str:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "teachingfile.settings.dev"}
    command = [sys.executable, "-c", f"import django; django.setup(); from django.core.cache import cache; {code}"]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_a_version_one_process_replaces_is_the_one_another_reads():
    key, version = f"test-shared-{secrets.token_hex(4)}", secrets.token_hex(8)
    in_a_make_run_process(f"cache.set({key!r}, {version!r}, 60)")
    assert in_a_make_run_process(f"print(cache.get({key!r}))") == version
    in_a_make_run_process(f"cache.delete({key!r})")
