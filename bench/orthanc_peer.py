"""One Orthanc round of ``bench/ingest.py``: start Orthanc, store and render every file, stop it (a helper).

Orthanc runs with a temporary configuration and storage folder (removed afterwards), its DICOM server off and
remote access refused. Orthanc 1.10 has no setting for the address it listens on, so ``bench/ingest.py`` runs
this round in a network namespace of its own (``unshare -rn``, ``ORTHANC_NETNS=1``) where only its loopback
exists; the loopback is brought up here. Without a namespace it listens on ``ORTHANC_PORT`` (default 8042) of
every address, answering this machine only.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RENDERED = "/instances/{}/rendered?window-center=40&window-width=400"


def orthanc_round(files: list[Path], *, executable: str, clients: int) -> tuple[float, float, float]:
    """Return (seconds from Orthanc's launch to the last rendered image, Orthanc's CPU, the clients' CPU)."""
    if os.environ.get("ORTHANC_NETNS") == "1":  # set by bench/ingest.py in the namespace it made
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    port = int(os.environ.get("ORTHANC_PORT", "8042"))
    folder = Path(tempfile.mkdtemp(prefix="bench-orthanc-"))
    server = None
    try:
        configuration = folder / "orthanc.json"
        configuration.write_text(json.dumps(_configuration(folder / "storage", port)))
        client_cpu = time.process_time()
        start = time.perf_counter()
        server = subprocess.Popen(
            [executable, str(configuration), f"--logdir={folder}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_until_up(port, server)
        local = threading.local()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            sizes = list(pool.map(lambda path: _store_and_render(local, port, path), files))
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        if min(sizes) == 0:
            raise RuntimeError("Orthanc rendered an empty image")
        return elapsed, _stop(server), client_cpu
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _configuration(storage: Path, port: int) -> dict:
    return {
        "Name": "bench",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "Plugins": [],
        "SaveJobs": False,
    }


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError("Orthanc exited at start-up")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/system")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("Orthanc did not answer")


def _store_and_render(local: threading.local, port: int, path: Path) -> int:
    """Store one file and fetch its rendered PNG over this thread's own kept-alive connection; return its size."""
    if not hasattr(local, "connection"):
        local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection = local.connection
    connection.request("POST", "/instances", body=path.read_bytes(), headers={"Content-Type": "application/dicom"})
    answer = connection.getresponse()
    stored = json.loads(answer.read())
    if answer.status != 200:
        raise RuntimeError(f"Orthanc refused a file ({answer.status})")
    connection.request("GET", RENDERED.format(stored["ID"]), headers={"Accept": "image/png"})
    rendered = connection.getresponse()
    return len(rendered.read()) if rendered.status == 200 else 0


def _stop(server: subprocess.Popen) -> float:
    """Stop Orthanc and return the CPU it used, in seconds."""
    server.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(server.pid, 0)
    server.returncode = 0
    return usage.ru_utime + usage.ru_stime
