"""Two web processes and two task workers on one machine sharing one PostgreSQL, one Redis and one S3 endpoint
(moto's standalone server): the production path of docs/storage.md run on a single machine (not a test).

An author logs in and uploads a synthetic CT through web 1 while the import's progress is polled through
web 2; the worker that took the job is killed with SIGKILL in the middle of the import, and the job must end
on the other worker (the lease check queues it again once) or end cleanly. Then every image is read through
web 2 and compared with the bucket, and the bucket must hold no file that no image names. Last, the two ways
an image leaves after the permission check are timed in interleaved rounds: web 1 streams it from the bucket
(TEACHINGFILE_MEDIA_DELIVERY=proxy), web 2 redirects to a signed URL (redirect), followed as a browser does.

Run: ``.venv/bin/python bench/cluster.py`` (PostgreSQL at --database-url, Redis at --redis-url; ports
--port … --port+2). It makes a database of its own and drops it, and leaves no file. Exits 1 when a check fails.
"""

import argparse
import io
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.concurrency import Browser, Report, case_create, form_fields  # noqa: E402
from demo import synthetic  # noqa: E402

BUCKET = "cluster-media"
TASKS = """SELECT status, worker_ids, exception_class_path FROM django_tasks_database_dbtaskresult
           WHERE task_path = 'ingest.tasks.ingest_job' ORDER BY enqueued_at"""
IMAGES = """SELECT image.file, image.thumbnail, image.dicom_file FROM cases_image image
            JOIN cases_series series ON image.series_id = series.id WHERE series.case_id = %s ORDER BY image.id"""


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201


class Processes:
    """The cluster's processes, each in a session of its own with its output in ``<name>.log``."""

    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, {}

    def start(self, name: str, command: list[str], **env: str) -> None:
        with (self.logs / f"{name}.log").open("a") as log:
            self.running[name] = subprocess.Popen(
                command, env={**self.env, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def manage(self, *arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments], env=self.env, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"manage.py {arguments[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def kill(self, name: str) -> None:
        os.killpg(self.running[name].pid, signal.SIGKILL)
        self.running[name].wait()

    def cpu_seconds(self, name: str) -> float:
        """CPU time used so far by the processes of one session (a server's master and its workers)."""
        session, ticks = self.running[name].pid, 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = condition()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"Timed out waiting for {what}.")


def database_create(admin_url: str, name: str, *, drop_only: bool = False) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def web_command(port: int) -> list[str]:
    """Gunicorn with one process of four threads when it is installed (deployment), else Django's runserver."""
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    application = ["teachingfile.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    return [sys.executable, "-m", "gunicorn", *application, "--workers", "1", "--threads", "4"]


def cluster_start(options, folder: Path) -> tuple[Processes, dict]:
    """Start the S3 endpoint, migrate the database, then the two web processes and the two workers."""
    started = time.monotonic()
    endpoint = f"http://127.0.0.1:{options.port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.cluster_settings",
        "DJANGO_SECRET_KEY": "cluster-bench-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_create(options.database_url, options.database_name),
        "REDIS_URL": options.redis_url,
        "TEACHINGFILE_S3_BUCKET": BUCKET,
        "TEACHINGFILE_S3_ENDPOINT_URL": endpoint,
        "TEACHINGFILE_S3_REGION": "us-east-1",
        "TEACHINGFILE_S3_ACCESS_KEY_ID": "cluster",
        "TEACHINGFILE_S3_SECRET_ACCESS_KEY": "cluster",
        "TEACHINGFILE_UPLOAD_SPOOL": str(folder / "spool"),
        "TEACHINGFILE_MEDIA_ROOT": str(folder / "media-unused"),
        "TEACHINGFILE_INGEST_WORKERS": "1",
        "TEACHINGFILE_INGEST_LEASE_SECONDS": str(options.lease),
        "PYTHONUNBUFFERED": "1",
    }
    redis.Redis.from_url(options.redis_url).ping()
    processes = Processes(env, folder)
    processes.start(
        "s3", [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(options.port)]
    )
    wait_until(lambda: urlopen(endpoint, timeout=1), "the S3 endpoint")
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="cluster",
        aws_secret_access_key="cluster",
    )
    s3.create_bucket(Bucket=BUCKET)
    say(f"S3 endpoint (moto_server) up, bucket made: {time.monotonic() - started:.1f} s")
    processes.manage("migrate", "--noinput")
    processes.manage("shell", "-c", "from accounts.services import demo_accounts_ensure; demo_accounts_ensure()")
    say(f"PostgreSQL database {options.database_name} migrated, accounts made: {time.monotonic() - started:.1f} s")
    webs = {}
    for number, delivery in ((1, "proxy"), (2, "redirect")):
        port = options.port + number
        processes.start(f"web{number}", web_command(port), TEACHINGFILE_MEDIA_DELIVERY=delivery)
        webs[number] = f"http://127.0.0.1:{port}"
    for number in (1, 2):
        processes.start(
            f"worker{number}",
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--worker-id",
                f"worker{number}",
                "--interval",
                "0.2",
            ],
        )
    for base in webs.values():
        wait_until(lambda base=base: urlopen(f"{base}/accounts/login/", timeout=2).status == 200, base)
    say(f"web1 ({webs[1]}, proxy), web2 ({webs[2]}, redirect), worker1, worker2 up: {time.monotonic() - started:.1f} s")
    return processes, {"webs": webs, "s3": s3, "db": env["DATABASE_URL"]}


def study_zip(slices: int) -> bytes:
    datasets = synthetic.ct_pelvis(patient=synthetic.Patient(seed=7), slices=slices, size=256)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in synthetic.planted_study_files(datasets).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def running_worker(db_url: str) -> str | None:
    with psycopg.connect(db_url) as connection:
        rows = connection.execute(TASKS).fetchall()
    return next((ids[-1] for status, ids, _ in rows if status == "RUNNING"), None)


def import_with_a_kill(processes: Processes, cluster: dict, options) -> tuple[int, dict, dict]:
    """Upload through web 1, poll through web 2, SIGKILL the worker running the job; return the case, its end."""
    report = Report()
    author1, author2 = Browser(cluster["webs"][1], report), Browser(cluster["webs"][2], report)
    author1.log_in("faculty", "faculty")
    author2.opener = author1.opener  # one browser: the session made on web 1 is used on web 2
    case_id = case_create(author1, "cl1")
    study = study_zip(options.slices)
    path = f"/admin/cases/case/{case_id}/dicom/"
    started = time.monotonic()
    fields = form_fields(author1.get("import", path).text, "csrfmiddlewaretoken")
    answer = author1.post_files("import", path, fields, {"study.zip": study})
    progress = re.search(r'data-status-url="([^"]+)"', answer.text).group(1)
    say(
        f"upload of {options.slices} slices ({len(study) / 1e6:.1f} MB) answered by web1: HTTP {answer.status} "
        f"in {time.monotonic() - started:.2f} s"
    )
    killed, seen = {}, []
    while True:
        state = json.loads(author2.get("progress", progress, {"Accept": "application/json"}).text)
        moment = time.monotonic() - started
        worker = running_worker(cluster["db"])
        if worker and (not seen or seen[-1][1] != worker):
            seen.append((moment, worker, state["phase"], state["processed"]))
            say(f"  {moment:6.2f} s  {worker} runs the job ({state['phase']}, {state['processed']}/{state['total']})")
        wanted = state["phase"] == options.kill_phase and state["processed"] >= options.kill_at * state["total"]
        if not killed and worker and state["status"] == "running" and wanted:
            processes.kill(worker)
            killed = {"worker": worker, "at": moment, "processed": state["processed"], "phase": state["phase"]}
            say(f"  {moment:6.2f} s  SIGKILL {worker} ({state['phase']}, {state['processed']}/{state['total']})")
        if state["status"] in ("done", "failed"):
            say(f"  {moment:6.2f} s  job {state['status']} (seen on web2), {state['processed']}/{state['total']}")
            return case_id, state | {"seconds": moment}, killed
        if moment > options.timeout:
            raise SystemExit(f"The import did not end within {options.timeout} s.")
        time.sleep(0.1)


def fetch(browser: Browser, url: str) -> tuple[bytes, bool]:
    """GET an image as a browser does: follow a redirect to the signed URL without the site's cookies."""
    try:
        with browser.opener.open(Request(url), timeout=30) as response:
            return response.read(), False
    except HTTPError as error:
        if error.code != 302:
            raise
        with urlopen(error.headers["Location"], timeout=30) as signed:
            return signed.read(), True


def checks(cluster: dict, case_id: int, state: dict, killed: dict, options, folder: Path) -> list[str]:
    """Return what went wrong: the job's end, its task rows, the images read through web 2, the bucket."""
    failures = []
    # The job is done a moment before its task row says so.
    wait_until(lambda: running_worker(cluster["db"]) is None, "the task rows to end", seconds=10)
    with psycopg.connect(cluster["db"]) as connection:
        tasks = connection.execute(TASKS).fetchall()
        rows = connection.execute(IMAGES, [case_id]).fetchall()
    say(
        "task rows: "
        + "; ".join(f"{status} by {','.join(ids)} {error.rsplit('.', 1)[-1]}".strip() for status, ids, error in tasks)
    )
    if state["status"] != "done" or len(rows) != options.slices:
        failures.append(f"job {state['status']} with {len(rows)} images of {options.slices}")
    if not killed:
        failures.append("no worker was killed (the import ended first: raise --slices)")
    if any(len(ids) != 1 for _, ids, _ in tasks):
        failures.append("a task row was claimed by more than one worker")
    s3, browser = cluster["s3"], Browser(cluster["webs"][2], Report())
    browser.log_in("faculty", "faculty")
    names = [name for row in rows for name in row[:2] if name]
    equal = sum(
        fetch(browser, f"{cluster['webs'][2]}/media/{name}")[0] == s3.get_object(Bucket=BUCKET, Key=name)["Body"].read()
        for name in names
    )
    say(f"read through web2: {equal} of {len(names)} images and thumbnails equal to the bucket's objects")
    if equal != len(names):
        failures.append("an image read through web 2 differs from the bucket's")
    held = {name for row in rows for name in row if name}
    stems = {PurePosixPath(name).stem for name in held if name.startswith("dicom/")}
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for item in page.get("Contents", [])
    ]
    orphans = [
        key for key in keys if key not in held and not (key.startswith("values/") and key.split("/")[1] in stems)
    ]
    spooled = list((folder / "spool").rglob("*")) if (folder / "spool").exists() else []
    say(f"bucket: {len(keys)} objects, {len(orphans)} named by no image; spool: {len(spooled)} files left")
    if orphans or [path for path in spooled if path.is_file()]:
        failures.append("files left behind")
    return failures


def delivery_rounds(processes: Processes, cluster: dict, case_id: int, rounds: int, threads: int) -> None:
    """Time reading the case's images through web 1 (proxy) and web 2 (redirect), interleaved, and print medians."""
    with psycopg.connect(cluster["db"]) as connection:
        names = [row[0] for row in connection.execute(IMAGES, [case_id]).fetchall()]
    browsers = {}
    for number, label in ((1, "proxy"), (2, "redirect")):
        browsers[label] = (number, Browser(cluster["webs"][number], Report()))
        browsers[label][1].log_in("faculty", "faculty")
    figures = {label: {"rate": [], "latency": [], "cpu": []} for label in browsers}
    for _ in range(rounds):
        for label, (number, browser) in browsers.items():
            latencies, sizes = [], []

            def one(name, browser=browser, number=number, latencies=latencies, sizes=sizes):
                began = time.perf_counter()
                sizes.append(len(fetch(browser, f"{cluster['webs'][number]}/media/{name}")[0]))
                latencies.append(time.perf_counter() - began)

            cpu, began = processes.cpu_seconds(f"web{number}"), time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, names))
            wall = time.perf_counter() - began
            figures[label]["rate"].append(len(names) / wall)
            figures[label]["latency"].append(statistics.median(latencies) * 1000)
            figures[label]["cpu"].append((processes.cpu_seconds(f"web{number}") - cpu) * 1000 / len(names))
    size = statistics.mean(sizes) / 1000
    say(f"image delivery, {len(names)} images of {size:.0f} kB × {rounds} rounds ({threads} threads), medians:")
    for label, values in figures.items():
        rate, latency, cpu = (statistics.median(values[key]) for key in ("rate", "latency", "cpu"))
        say(f"  {label:8}  {rate:7.1f} images/s   latency {latency:6.1f} ms   web CPU {cpu:5.2f} ms/image")
    ratio = statistics.median(figures["redirect"]["rate"]) / statistics.median(figures["proxy"]["rate"])
    say(f"  redirect ÷ proxy (images/s): {ratio:.2f}")


def values_rounds(cluster: dict, case_id: int, rounds: int) -> None:
    """Time the viewer's values stream of the imported stack (one response, every slice read from the bucket)."""
    with psycopg.connect(cluster["db"]) as connection:
        series = connection.execute("SELECT id FROM cases_series WHERE case_id = %s", [case_id]).fetchone()[0]
    browser = Browser(cluster["webs"][1], Report())
    browser.log_in("faculty", "faculty")
    seconds, size = [], 0
    for _ in range(rounds):
        began = time.perf_counter()
        size = len(fetch(browser, f"{cluster['webs'][1]}/series/{series}/values/")[0])
        seconds.append(time.perf_counter() - began)
    rounds_text = ", ".join(f"{value:.2f}" for value in seconds)
    median = statistics.median(seconds)
    say(f"viewer values stream of the stack, {size / 1e6:.1f} MB: median {median:.2f} s ({rounds_text})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/postgres", help="where to make the bench's own"
    )
    parser.add_argument("--database-name", default="teachingfile_cluster", help="the bench's database (dropped)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--port", type=int, default=8210, help="the S3 endpoint's; the web processes take the next two")
    parser.add_argument("--slices", type=int, default=120)
    parser.add_argument("--kill-phase", choices=("deidentify", "render"), default="render")
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of the phase done when the worker is killed")
    parser.add_argument("--lease", type=float, default=5, help="TEACHINGFILE_INGEST_LEASE_SECONDS of every process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="teachingfile-cluster-") as name:
        folder = Path(name)
        processes = None
        try:
            processes, cluster = cluster_start(options, folder)
            case_id, state, killed = import_with_a_kill(processes, cluster, options)
            failures = checks(cluster, case_id, state, killed, options, folder)
            delivery_rounds(processes, cluster, case_id, options.rounds, options.threads)
            values_rounds(cluster, case_id, options.rounds)
        finally:
            if processes:
                processes.stop()
            database_create(options.database_url, options.database_name, drop_only=True)
    say("FAILED: " + "; ".join(failures) if failures else "all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
