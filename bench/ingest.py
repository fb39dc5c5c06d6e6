"""Benchmark: DICOM ingest against dcmtk, Orthanc and a bare pydicom loop, interleaved (not a test; prints figures).

Generates a synthetic CT series (default 300 slices of 512×512, 16-bit) with ``demo.synthetic``, then runs
the contenders in turn, a, b, c, d, a, b, c, d… for ``--rounds`` rounds (default 3), each a whole process:

- ours: ``manage.py import_study FOLDER --case …`` (read, de-identify, store, group, render web images, rows),
  from the interpreter's start to its exit, into a copy of a migrated SQLite database and an empty media
  folder, with the workers a deployment runs (``TEACHINGFILE_INGEST_WORKERS``, default the cores up to 4);
- task: the web upload's import as deployed, on the same kind of copy: the series zipped (stored, as a PACS
  export), handed to ``ingest_upload`` as the upload Django spooled to a temporary file (the request's part:
  spool, list the members, queue ``ingest_job`` in the database), then that job run by django-tasks-db's
  ``db_worker`` loop in the same process, which had started Django and run the system checks first, as the
  long-running worker has; timed: the task alone (the worker taking the job, the import, the result saved),
  its CPU its process's and its workers'; the request's time and what a fresh process's start-up (interpreter,
  ``django.setup``, imports, system checks) would add are printed apart; task-files: the same with the slices
  uploaded as files (the authoring screen's "files" or "folder" field), each one small enough for Django to keep
  in memory;
- dcmtk: ``dcmj2pnm`` converting each file to PNG with a 40/400 window, one process per file, as a script
  around dcmtk runs it;
- Orthanc: Debian's ``Orthanc`` started with a temporary configuration and storage folder, each file stored
  (``POST /instances``) then rendered (``GET /instances/{id}/rendered``, 40/400) by one client connection per
  core, from its launch to the last image; it runs in a network namespace of its own (``unshare -rn``),
  reachable on its loopback only, and is stopped and its folder removed after each round;
- bare: a pydicom → numpy → Pillow loop in one process (read, rescale, window, PNG encoded as ours is): the
  ceiling of our own stack without de-identification, storage or database.

``--baseline CHECKOUT`` adds ``import_study`` run from another checkout (a worktree of main, say) as one
more contender in the same rounds: before and after a change, measured alike.

Prints each contender's median slices per second, its rounds, the CPU it used per slice (all its processes;
Orthanc's own, its client's apart), the CPU other work on the machine used meanwhile (in cores, from
``/proc/stat``: "busy" when others keep the cores, "quiet" when not; ``--others N`` keeps N cores busy on
purpose), and the ratios of ours to dcmtk and to Orthanc. ``--memory-slices N`` then ingests an N-slice series
with ours alone and prints its peak RSS.
``--profile`` instead runs ``import_study`` in one process under cProfile and prints the CPU per slice of
its costliest functions.  ``--junk`` runs ``bench/ingest_junk.py`` (junk and bomb inputs).

Run: ``.venv/bin/python bench/ingest.py [--slices 300] [--rounds 3] [--memory-slices 0]``.
"""

import argparse
import contextlib
import cProfile
import functools
import io
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASE = "bench"
ORTHANC = "/usr/sbin/Orthanc"
CONTENDERS = ("ours", "task", "task-files", "dcmtk", "orthanc", "bare")
GREY_RAMP = [level for grey in range(256) for level in (grey, grey, grey)]


def write_series(folder: Path, slices: int) -> int:
    from demo import synthetic

    datasets = synthetic.ct_pelvis(patient=synthetic.Patient(), slices=slices, seed=7)
    total = 0
    for index, dataset in enumerate(datasets):
        buffer = io.BytesIO()
        dataset.save_as(buffer, enforce_file_format=True)
        (folder / f"{index:05d}.dcm").write_bytes(buffer.getvalue())
        total += len(buffer.getvalue())
    return total


def ours_environment(work: Path, workers: int | None) -> dict:
    """The environment of a whole ``manage.py`` process on a throw-away SQLite database and media folder."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.dev",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "TEACHINGFILE_MEDIA_ROOT": str(work / "media"),
        "TEACHINGFILE_UPLOAD_SPOOL": str(work / "spool"),
    }
    if workers:
        environment["TEACHINGFILE_INGEST_WORKERS"] = str(workers)
    return environment


def prepare_database(template: Path, root: Path = ROOT) -> None:
    """Migrate a SQLite database in ``template`` and add the case the imports go into (once, not timed)."""
    environment = ours_environment(template, None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=environment, check=True)
    make = f"from cases.models import Case; Case.objects.create(number={CASE!r}, title='Bench', status='draft')"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([sys.executable, "manage.py", "shell", "-c", make], cwd=root, env=environment, check=True, **quiet)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ours(folder: Path, template: Path, workers: int | None, root: Path = ROOT) -> tuple[float, float, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    try:
        shutil.copy(template / "db.sqlite3", work / "db.sqlite3")
        command = [sys.executable, "manage.py", "import_study", str(folder), "--case", CASE]
        cpu, start = children_cpu(), time.perf_counter()
        subprocess.run(command, cwd=root, env=ours_environment(work, workers), check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start, children_cpu() - cpu, 0.0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_zip(folder: Path, archive: Path) -> None:
    """Zip the series as a PACS export does, stored (CT pixels deflate poorly), once before the rounds."""
    with zipfile.ZipFile(archive, "w") as export:
        for index, path in enumerate(sorted(folder.glob("*.dcm")), start=1):
            export.write(path, f"DICOM/S0001/IM{index:05d}")


def run_task(upload: Path, template: Path, workers: int | None) -> tuple[float, float, float, dict]:
    """Run the web upload's request (a zip, or a folder's files) then its task in one child process; the task's
    time and CPU, and the rest."""
    work = Path(tempfile.mkdtemp(prefix="bench-task-"))
    try:
        shutil.copy(template / "db.sqlite3", work / "db.sqlite3")
        environment = {**ours_environment(work, workers), "BENCH_LAUNCHED": repr(time.time())}
        command = [sys.executable, __file__, "--child", "task", str(upload)]
        result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
        request, elapsed, cpu, startup, startup_cpu, checks_cpu = (float(value) for value in result.stdout.split()[-6:])
        apart = {"request": request, "startup": startup, "startup_cpu": startup_cpu, "checks_cpu": checks_cpu}
        return elapsed, cpu, 0.0, apart
    finally:
        shutil.rmtree(work, ignore_errors=True)


def task_child(upload: Path) -> None:
    """Start as ``db_worker`` does, spool the zip as the upload request does, then run its job as the worker does.

    Prints the request's seconds, the task's seconds and CPU (this process and its workers), the start-up's
    seconds (from the parent's launch) and CPU, and the system checks' part of that CPU.
    """
    import django

    django.setup()
    from django.core.files.uploadedfile import InMemoryUploadedFile, TemporaryUploadedFile
    from django.core.management import call_command
    from django.db import transaction
    from django_tasks_db.management.commands.db_worker import Worker

    from cases.models import Case
    from ingest.models import IngestJob
    from ingest.upload import ingest_upload

    ready = process_cpu()
    call_command("check", stdout=io.StringIO())  # db_worker runs the system checks before it takes jobs
    startup, startup_cpu = time.time() - float(os.environ["BENCH_LAUNCHED"]), process_cpu()
    checks_cpu = startup_cpu - ready
    # What Django's upload handlers made of the body while it arrived: a large file spooled to a temporary one,
    # small ones kept in memory.
    if upload.is_dir():
        uploads = [
            InMemoryUploadedFile(io.BytesIO(path.read_bytes()), "files", path.name, "", path.stat().st_size, None)
            for path in sorted(upload.glob("*.dcm"))
        ]
    else:
        uploads = [TemporaryUploadedFile("export.zip", "application/zip", upload.stat().st_size, None)]
        with upload.open("rb") as source:
            shutil.copyfileobj(source, uploads[0].file)
        uploads[0].file.flush()
    case = Case.objects.get(number=CASE)
    start = time.perf_counter()
    with transaction.atomic():  # the request's transaction: the task is queued when it commits
        job, names = ingest_upload(case=case, uploads=uploads, user=None)
    for item in uploads:  # as Django closes them when the request ends (a moved temporary file included)
        item.close()
    request = time.perf_counter() - start
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,  # the import only: the viewer values it queues are left queued, as import_study leaves them
        worker_id="bench",
        excluded_queue_names=[],
    )
    cpu, start = process_cpu() + children_cpu(), time.perf_counter()
    worker.run()
    elapsed, cpu = time.perf_counter() - start, process_cpu() + children_cpu() - cpu
    job.refresh_from_db()
    if job.status != IngestJob.Status.DONE or job.processed != len(names):
        raise SystemExit(f"the task ended {job.status} with {job.processed} files processed")
    print(f"{request:.4f} {elapsed:.4f} {cpu:.4f} {startup:.4f} {startup_cpu:.4f} {checks_cpu:.4f}")  # noqa: T201


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_dcmtk(folder: Path) -> tuple[float, float, float]:
    out = Path(tempfile.mkdtemp(prefix="bench-dcmtk-"))
    try:
        cpu, start = children_cpu(), time.perf_counter()
        for path in sorted(folder.glob("*.dcm")):
            png = str(out / f"{path.stem}.png")
            subprocess.run(["dcmj2pnm", "--write-png", "--set-window", "40", "400", str(path), png], check=True)
        return time.perf_counter() - start, children_cpu() - cpu, 0.0
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_child(mode: str, folder: Path, *prefix: str) -> tuple[float, float, float]:
    """Run a contender in a child process of this script; it prints its time, its CPU and its client's CPU."""
    command = [*prefix, sys.executable, __file__, "--child", mode, str(folder)]
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    elapsed, own_cpu, client_cpu = (float(value) for value in result.stdout.split()[-3:])
    if mode == "bare":  # the whole process: interpreter start and imports too, as for ours
        return time.perf_counter() - start, children_cpu() - cpu, 0.0
    return elapsed, own_cpu, client_cpu


def bare_loop(folder: Path) -> tuple[float, float, float]:
    import numpy as np
    import PIL.Image
    import pydicom

    for path in sorted(folder.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        values = dataset.pixel_array.astype(np.float32) * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
        low, high = 40 - 200, 40 + 200
        grey = PIL.Image.fromarray((np.clip((values - low) / (high - low), 0, 1) * 255).astype(np.uint8))
        grey.putpalette(GREY_RAMP)  # encoded as ours is: palette PNG over a grey ramp
        grey.save(io.BytesIO(), format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return 0.0, 0.0, 0.0


def child(mode: str, folder: Path) -> None:
    if mode == "memory":
        memory_child(folder)
        return
    if mode == "task":
        task_child(folder)
        return
    if mode == "orthanc":
        from orthanc_peer import orthanc_round  # bench/orthanc_peer.py

        figures = orthanc_round(sorted(folder.glob("*.dcm")), executable=ORTHANC, clients=os.cpu_count() or 1)
    else:
        figures = bare_loop(folder)
    print(" ".join(f"{figure:.4f}" for figure in figures))  # noqa: T201


class MachineLoad:
    """The CPU the whole machine used between two readings of ``/proc/stat``, in core-seconds."""

    def __init__(self) -> None:
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.start = self.busy()

    def busy(self) -> float:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return (sum(fields[:8]) - idle) / self.ticks

    def since(self) -> float:
        return self.busy() - self.start


def measure_round(run) -> dict:
    """Run one round; "others" is the CPU the rest of the machine used meanwhile, in cores."""
    load, spent, start = MachineLoad(), children_cpu(), time.perf_counter()
    elapsed, cpu, client_cpu, *apart = run()
    others = max(0.0, load.since() - (children_cpu() - spent)) / (time.perf_counter() - start)
    return {"seconds": elapsed, "cpu": cpu, "client": client_cpu, "others": others, **(apart[0] if apart else {})}


@contextlib.contextmanager
def other_work(processes: int):
    """Keep ``processes`` cores busy meanwhile (a Python loop each, at the contenders' priority): a busy
    machine made on purpose, so that a busy run can be repeated."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def contenders(folder: Path, template: Path, options) -> dict:
    runs = {}
    for name in options.contenders:
        if name == "ours":
            for index, workers in enumerate(options.workers or [None]):
                label = "ours" if index == 0 else f"ours, {workers} workers"
                runs[label] = functools.partial(run_ours, folder, template, workers)
            if options.baseline:
                baseline_template = template / "baseline"
                baseline_template.mkdir()
                prepare_database(baseline_template, options.baseline)
                worker_count = (options.workers or [None])[0]
                runs["baseline"] = functools.partial(
                    run_ours, folder, baseline_template, worker_count, options.baseline
                )
        elif name == "task":
            archive = template / "export.zip"
            write_zip(folder, archive)
            runs[name] = functools.partial(run_task, archive, template, (options.workers or [None])[0])
        elif name == "task-files":
            runs[name] = functools.partial(run_task, folder, template, (options.workers or [None])[0])
        elif name == "dcmtk" and shutil.which("dcmj2pnm"):
            runs[name] = lambda: run_dcmtk(folder)
        elif name == "orthanc" and Path(ORTHANC).exists():
            runs[name] = lambda: run_child("orthanc", folder, *namespace_prefix())
        elif name == "bare":
            runs[name] = lambda: run_child("bare", folder)
        else:
            print(f"{name}: missing — make bench installs dcmtk and orthanc")  # noqa: T201
    return runs


def namespace_prefix() -> list[str]:
    """``unshare -rn`` when this machine lets a process have a network namespace of its own, else nothing."""
    if not shutil.which("unshare"):
        return []
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    return ["unshare", "-rn", "env", "ORTHANC_NETNS=1"] if probe.returncode == 0 else []


def report(figures: dict[str, list[dict]], slices: int, rounds: int) -> None:
    medians = {name: statistics.median(run["seconds"] for run in runs) for name, runs in figures.items()}
    width = max(len(name) for name in figures)
    lines = [f"{'':{width}} {'slices/s':>9} {'CPU ms/slice':>22} {'others, cores':>14}  rounds (slices/s)"]
    for name, runs in figures.items():
        cpu = statistics.median(1000 * run["cpu"] / slices for run in runs)
        client = statistics.median(1000 * run["client"] / slices for run in runs)
        others = statistics.median(run["others"] for run in runs)
        rates = ", ".join(f"{slices / run['seconds']:.1f}" for run in runs)
        shown = f"{cpu:.1f}" + (f" (+{client:.1f} client)" if client else "")
        lines.append(f"{name:{width}} {slices / medians[name]:9.1f} {shown:>22} {others:14.2f}  {rates}")
    for name in (name for name in medians if name.startswith(("ours", "task")) or name == "baseline"):
        for peer, target in (("dcmtk", 4), ("orthanc", 1.5), ("bare", None), ("baseline", None), ("ours", None)):
            if peer in medians and peer != name and (peer != "ours" or name.startswith("task")):
                wanted = f" (target ≥ {target}×)" if target else ""
                lines.append(f"{name} ÷ {peer} = {medians[peer] / medians[name]:.2f}×{wanted}")
    for name in (name for name in ("task", "task-files") if name in figures):
        runs = figures[name]
        request, startup = (statistics.median(run[key] for run in runs) for key in ("request", "startup"))
        startup_cpu, checks_cpu = (statistics.median(run[key] for run in runs) for key in ("startup_cpu", "checks_cpu"))
        lines.append(
            f"{name}: the upload's request (spool, list, queue) {request:.2f} s; a fresh process's start-up would add "
            f"{startup:.2f} s ({1000 * startup_cpu:.0f} ms of CPU, {1000 * checks_cpu:.0f} of them the system "
            f"checks); request + start-up + task "
            f"{slices / (request + startup + medians[name]):.1f} slices/s (medians)"
        )
    print("\n".join(lines))  # noqa: T201


def memory_run(slices: int, template: Path, workers: int | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-ct-large-"))
    work = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    try:
        size = generate(folder, slices)
        shutil.copy(template / "db.sqlite3", work / "db.sqlite3")
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, __file__, "--child", "memory", str(folder)],
            env=ours_environment(work, workers),
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
        own, largest_worker = (float(value) for value in result.stdout.split()[-2:])
        print(  # noqa: T201
            f"memory: {slices} slices ({size / 1e6:.0f} MB) ingested in {elapsed:.1f} s, peak RSS {own:.0f} MiB in "
            f"the main process, {largest_worker:.0f} MiB in the largest worker (budget 400 MiB)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def memory_child(folder: Path) -> None:
    """Run ``manage.py import_study`` in this process; print its peak RSS and its largest worker's, in MiB."""
    import runpy

    sys.argv = ["manage.py", "import_study", str(folder), "--case", CASE]
    os.chdir(ROOT)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        runpy.run_path(str(ROOT / "manage.py"), run_name="__main__")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{own:.1f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f}")  # noqa: T201


def generate(folder: Path, slices: int) -> int:
    result = subprocess.run(
        [sys.executable, __file__, "--generate", str(slices), str(folder)], capture_output=True, text=True, check=True
    )
    return int(result.stdout.split()[-1])


def profile(folder: Path, template: Path, slices: int) -> None:
    """Run import_study in this process (one worker) under cProfile; print the CPU per slice of the costliest."""
    work = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    try:
        shutil.copy(template / "db.sqlite3", work / "db.sqlite3")
        os.environ.update(ours_environment(work, 1))
        started = time.process_time()
        import django

        django.setup()
        from django.core.management import call_command

        setup = time.process_time() - started
        profiler = cProfile.Profile()
        profiler.runcall(call_command, "import_study", str(folder), case=CASE, stdout=io.StringIO())
        stats = pstats.Stats(profiler)
        print(f"start-up (django.setup): {1000 * setup:.0f} ms of CPU; per slice, under the profiler:")  # noqa: T201
        rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:30]  # by own time
        for (path, line, function), (_, _calls, own, cumulative, _) in rows:
            place = f"{Path(path).name}:{line}({function})"
            print(f"{1000 * own / slices:7.2f} ms own {1000 * cumulative / slices:7.2f} ms with callees  {place}")  # noqa: T201
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every contender in turn (at least 3)")
    parser.add_argument("--memory-slices", type=int, default=1000, help="then a memory run of ours (0: none)")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        help="ours: TEACHINGFILE_INGEST_WORKERS (default as deployed); several: one"
        " contender each, the first named ours",
    )
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="also import with the code of another checkout (a worktree of main, say), a contender of its own",
    )
    parser.add_argument(
        "--others", type=int, default=0, metavar="N", help="keep N cores busy with other work during the rounds"
    )
    parser.add_argument("--profile", action="store_true", help="profile import_study in one process instead")
    parser.add_argument("--junk", action="store_true", help="junk and bomb inputs: bench/ingest_junk.py")
    parser.add_argument("--only", default="", metavar="REGEX", help="with --junk: the inputs whose label matches")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    parser.add_argument("--generate", nargs=2, metavar=("SLICES", "FOLDER"))
    options = parser.parse_args()
    if options.junk:
        from ingest_junk import main as junk_main  # bench/ingest_junk.py

        junk_main(["--only", options.only])
    elif options.child:
        child(options.child[0], Path(options.child[1]))
    elif options.generate:
        print(write_series(Path(options.generate[1]), int(options.generate[0])))  # noqa: T201
    else:
        compare(options)


def compare(options) -> None:
    if options.rounds < 3:
        raise SystemExit("at least 3 rounds")
    folder = Path(tempfile.mkdtemp(prefix="bench-ct-"))
    template = Path(tempfile.mkdtemp(prefix="bench-db-"))
    try:
        size = generate(folder, options.slices)
        prepare_database(template)
        if options.profile:
            profile(folder, template, options.slices)
            return
        print(  # noqa: T201
            f"data: {options.slices} CT slices, 512×512, 16-bit, {size / 1e6:.1f} MB of DICOM; "
            f"{options.rounds} rounds, the contenders in turn; {os.cpu_count()} cores"
        )
        runs = contenders(folder, template, options)
        figures: dict[str, list[dict]] = {name: [] for name in runs}
        with other_work(options.others):
            for _ in range(options.rounds):
                for name, run in runs.items():
                    figures[name].append(measure_round(run))
        report(figures, options.slices, options.rounds)
        if options.memory_slices:
            memory_run(options.memory_slices, template, (options.workers or [None])[0])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(template, ignore_errors=True)


if __name__ == "__main__":
    main()
