"""Benchmark: DICOM ingest against dcmtk and against a bare pydicom loop (not a test; prints figures).

Generates a synthetic CT series (default 300 slices of 512×512, 16-bit) with
``demo.synthetic``, then times, one after the other in fresh processes:

(a) dcmtk's ``dcmj2pnm`` converting each file to PNG with a soft-tissue window
    (one process per file, as a script around dcmtk would run it);
(b) a bare pydicom → numpy → Pillow loop (read, rescale, window, PNG encoded
    as ours is): the ceiling of our own stack;
(c) our full ingest (``import_study``'s path: read, de-identify, stage, group,
    render web image and thumbnail, store files, database rows) into a
    throw-away SQLite database and media folder.

Each mode runs ``--repeat`` times (default 3) and its median run is printed:
slices per second and its peak RSS (and its largest child
process's: the workers of (c), dcmj2pnm for (a)); the ratios follow. With
``--memory-slices N`` (default 1000) it then ingests an N-slice series with (c)
alone and prints the peak RSS. Run: ``.venv/bin/python bench/ingest.py``.

With ``--junk`` it instead imports, each in a fresh process with ``import_study``, the junk and bomb inputs of
``imaging/tests/corpus/junk.py`` at full size (a zip holding a 200 MiB member of zeros, a 64 MiB junk file, a
deflated data set of 1 GiB, nested zips, 20,001 members, a member larger than it declares, images announcing
huge sizes, sequences of millions of items or nested 100,000 deep, compressed frames whose own header declares
65,535² pixels) and the largest file the limits allow, all generated into a temporary folder, and prints for
each its size, the outcome, the time and the peak RSS of the process and of its largest worker.  ``--only REGEX``
runs the inputs whose label matches it.
"""

import argparse
import contextlib
import io
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mib() -> tuple[float, float]:
    """Return the peak RSS of this process and of its largest child (worker or dcmj2pnm), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


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


def run_dcmtk(folder: Path) -> tuple[int, float]:
    out = Path(tempfile.mkdtemp(prefix="bench-dcmtk-"))
    files = sorted(folder.glob("*.dcm"))
    start = time.perf_counter()
    for path in files:
        subprocess.run(
            ["dcmj2pnm", "--write-png", "--set-window", "40", "400", str(path), str(out / f"{path.stem}.png")],
            check=True,
        )
    elapsed = time.perf_counter() - start
    shutil.rmtree(out)
    return len(files), elapsed


def run_bare(folder: Path) -> tuple[int, float]:
    import numpy as np
    import PIL.Image
    import pydicom

    files = sorted(folder.glob("*.dcm"))
    start = time.perf_counter()
    for path in files:
        dataset = pydicom.dcmread(path)
        values = dataset.pixel_array.astype(np.float32) * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
        low, high = 40 - 200, 40 + 200
        grey = PIL.Image.fromarray((np.clip((values - low) / (high - low), 0, 1) * 255).astype(np.uint8))
        grey.putpalette(GREY_RAMP)  # encoded as ours is: palette PNG over a grey ramp
        grey.save(io.BytesIO(), format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return len(files), time.perf_counter() - start


def run_ours(folder: Path) -> tuple[int, float]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "teachingfile.settings.test"
    os.environ["TEACHINGFILE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-media-")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.MEDIA_ROOT = Path(os.environ["TEACHINGFILE_MEDIA_ROOT"])
    # The test settings use one process; measure what a deployment runs.
    settings.TEACHINGFILE_INGEST_WORKERS = int(os.environ.get("TEACHINGFILE_INGEST_WORKERS", os.cpu_count() or 1))
    # As deployed: the viewer values are prepared afterwards by the task worker, not within the import.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    connection.creation.create_test_db(verbosity=0)
    from cases.tests.factories import make_case

    case = make_case()
    files = len(list(folder.glob("*.dcm")))
    start = time.perf_counter()
    call_command("import_study", str(folder), case=case.number, stdout=io.StringIO())
    elapsed = time.perf_counter() - start
    shutil.rmtree(settings.MEDIA_ROOT)
    return files, elapsed


GREY_RAMP = [level for grey in range(256) for level in (grey, grey, grey)]
MODES = {"dcmtk": run_dcmtk, "bare": run_bare, "ours": run_ours}


def child(mode: str, folder: Path) -> None:
    files, elapsed = MODES[mode](folder)
    own, child_peak = peak_rss_mib()
    print(f"{files} {elapsed:.4f} {own:.1f} {child_peak:.1f}")  # noqa: T201


def generate(folder: Path, slices: int) -> int:
    result = subprocess.run(
        [sys.executable, __file__, "--generate", str(slices), str(folder)], capture_output=True, text=True, check=True
    )
    return int(result.stdout.split()[-1])


def measure(mode: str, folder: Path) -> tuple[int, float, float, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(folder)], capture_output=True, text=True, check=True
    )
    files, elapsed, rss, child_rss = result.stdout.split()[-4:]
    return int(files), float(elapsed), float(rss), float(child_rss)


RAISED = "per-file limit raised to 256 MiB: "
LARGEST = "largest allowed: 250 frames of 512² (125 MiB)"


def junk_inputs(folder: Path, only: str = "") -> list[tuple[str, list[Path]]]:
    """Write the junk and bomb inputs at full size, those whose label matches ``only``; return (label, paths)."""
    from imaging.tests.corpus import junk

    MiB = junk.MiB
    if re.search(only, LARGEST):
        largest = junk.image_dataset(rows=512, columns=512, frames=250)  # 125 MiB: the largest the limit allows
        (folder / "largest").mkdir()
        (folder / "largest" / "multiframe.dcm").write_bytes(junk.image_bytes(largest))
    inputs = [
        ("zip holding a 200 MiB member of zeros", junk.make_zip_of_zeros, {"member_bytes": 200 * MiB}),
        (RAISED + "zip holding a 200 MiB member of zeros", junk.make_zip_of_zeros, {"member_bytes": 200 * MiB}),
        ("64 MiB file of zeros", junk.make_junk_file, {"size": 64 * MiB, "zeros": True}),
        ("64 MiB file of random bytes", junk.make_junk_file, {"size": 64 * MiB}),
        ("200 MiB file of random bytes", junk.make_junk_file, {"size": 200 * MiB}),
        ("64 MiB: valid File Meta, then zeros", junk.make_header_then_zeros, {"size": 64 * MiB}),
        ("64 MiB: an image, then zeros; a header, then zeros", junk.make_zeros_after_a_data_set, {"size": 64 * MiB}),
        ("1,000,000 empty elements (8 MB)", junk.make_element_flood, {}),
        ("zip in zip in zip in zip (16 MiB of zeros)", junk.make_nested_zips, {"member_bytes": 16 * MiB}),
        ("zip of 20,001 members", junk.make_many_members, {}),
        ("member declaring 2 kB, inflating to 200 MiB", junk.make_declared_size_lie, {"real_bytes": 200 * MiB}),
        ("deflated data set inflating to 1 GiB", junk.make_deflate_bomb, {"inflated_bytes": 1024 * MiB}),
        ("65,535² pixels; 1,000,000 frames; 5,656² RLE", junk.make_image_bombs, {}),
        ("a sequence of 2,000,000 tiny items: parsed at once; when touched", junk.make_sequence_floods, {}),
        (
            "299,000 empty items (within the limit); 299,000 of an element each",
            junk.make_sequence_floods,
            {"items": 299_000},
        ),
        ("sequences nested 100,000 deep; 40 deep of defined length", junk.make_deep_sequences, {}),
        ("frames declaring 65,535² pixels: JPEG, JPEG-LS, JPEG 2000", junk.make_frame_size_lies, {}),
    ]
    made = []
    for index, (label, make, options) in enumerate(inputs):
        if not re.search(only, label):
            continue
        subfolder = folder / f"{index:02d}"
        subfolder.mkdir()
        made.append((label, make(subfolder, **options)))
    if re.search(only, LARGEST):
        made.append((LARGEST, [folder / "largest" / "multiframe.dcm"]))
    return made


def junk_child(paths: list[Path]) -> None:
    """Import the paths with import_study into a throw-away database; print time, outcome and peak RSS."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "teachingfile.settings.test"
    os.environ["TEACHINGFILE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-media-")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.MEDIA_ROOT = Path(os.environ["TEACHINGFILE_MEDIA_ROOT"])
    settings.TEACHINGFILE_INGEST_WORKERS = int(os.environ.get("TEACHINGFILE_INGEST_WORKERS", os.cpu_count() or 1))
    if "TEACHINGFILE_MAX_DICOM_FILE_BYTES" in os.environ:  # settings read it at start-up; this reads it again
        settings.TEACHINGFILE_MAX_DICOM_FILE_BYTES = int(os.environ["TEACHINGFILE_MAX_DICOM_FILE_BYTES"])
    # As deployed: the viewer values are prepared afterwards by the task worker, not within the import.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    connection.creation.create_test_db(verbosity=0)
    from cases.tests.factories import make_case

    case = make_case()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    output = io.StringIO()
    start = time.perf_counter()
    with contextlib.suppress(SystemExit):  # exit 1: some file was refused, as expected
        call_command("import_study", *map(str, paths), case=case.number, stdout=output)
    elapsed = time.perf_counter() - start
    shutil.rmtree(settings.MEDIA_ROOT)
    own, child_peak = peak_rss_mib()
    outcome = "; ".join(line.split(": ", 1)[-1] for line in output.getvalue().splitlines() if "refused " in line)
    print(f"{elapsed:.4f} {before:.1f} {own:.1f} {child_peak:.1f} {outcome or 'imported'}")  # noqa: T201


def junk_bench(only: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-junk-"))
    try:
        result = subprocess.run(
            [sys.executable, __file__, "--junk-generate", str(folder), "--only", only],
            capture_output=True,
            text=True,
            check=True,
        )
        print(  # noqa: T201
            "| input | on disk | outcome | time | peak RSS, main process (before the import) | largest worker |\n"
            "|---|---:|---|---:|---:|---:|"
        )
        for line in result.stdout.splitlines():
            label, joined = line.split("\t")
            paths = joined.split("|")
            size = sum(Path(path).stat().st_size for path in paths)
            environment = dict(os.environ)
            if label.startswith(RAISED):  # so that the first bytes decide, not the declared size
                environment["TEACHINGFILE_MAX_DICOM_FILE_BYTES"] = str(256 * 1024 * 1024)
            child_run = subprocess.run(
                [sys.executable, __file__, "--junk-child", *paths],
                capture_output=True,
                text=True,
                check=True,
                env=environment,
            )
            elapsed, before, own, child_peak, outcome = child_run.stdout.splitlines()[-1].split(" ", 4)
            shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"
            print(  # noqa: T201
                f"| {label} | {shown} | {outcome} | {float(elapsed):.2f} s | "
                f"{float(own):.0f} MiB ({float(before):.0f}) | {float(child_peak):.0f} MiB |"
            )
    finally:
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--memory-slices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the median is printed")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    parser.add_argument("--generate", nargs=2, metavar=("SLICES", "FOLDER"))
    parser.add_argument("--junk", action="store_true", help="import junk and bomb inputs; print time and memory")
    parser.add_argument("--only", default="", metavar="REGEX", help="with --junk: the inputs whose label matches TEXT")
    parser.add_argument("--junk-generate", metavar="FOLDER")
    parser.add_argument("--junk-child", nargs="+", metavar="PATH")
    arguments = parser.parse_args()
    if arguments.junk:
        junk_bench(arguments.only)
        return
    if arguments.junk_generate:
        for label, paths in junk_inputs(Path(arguments.junk_generate), arguments.only):
            print(f"{label}\t{'|'.join(map(str, paths))}")  # noqa: T201
        return
    if arguments.junk_child:
        junk_child([Path(path) for path in arguments.junk_child])
        return
    if arguments.child:
        child(arguments.child[0], Path(arguments.child[1]))
        return
    if arguments.generate:
        print(write_series(Path(arguments.generate[1]), int(arguments.generate[0])))  # noqa: T201
        return

    # Linux keeps a process's peak RSS across exec, so this parent stays small and leaves the work to children.
    folder = Path(tempfile.mkdtemp(prefix="bench-ct-"))
    size = generate(folder, arguments.slices)
    print(  # noqa: T201
        f"data: {arguments.slices} CT slices, 512×512, 16-bit, {size / 1e6:.1f} MB of DICOM; "
        f"median of {arguments.repeat} runs per mode"
    )
    rows = {}
    for mode in ("dcmtk", "bare", "ours"):
        if mode == "dcmtk" and not shutil.which("dcmj2pnm"):
            print("(a) dcmj2pnm: missing — apt-get install dcmtk to compare")  # noqa: T201
            continue
        runs = sorted((measure(mode, folder) for _ in range(arguments.repeat)), key=lambda run: run[1])
        files, elapsed, rss, child_rss = runs[len(runs) // 2]  # the median run: this machine's neighbours are noisy
        rows[mode] = files / elapsed
        print(  # noqa: T201
            f"{mode:>6}: {files / elapsed:7.1f} slices/s  {elapsed:6.2f} s  "
            f"peak RSS {rss:6.1f} MiB (largest child process {child_rss:.1f} MiB)"
        )
    if "dcmtk" in rows:
        print(f"ours / dcmtk = {rows['ours'] / rows['dcmtk']:.2f}× (target ≥ 4)")  # noqa: T201
    print(f"ours / bare  = {rows['ours'] / rows['bare']:.0%} (target ≥ 60 %)")  # noqa: T201
    shutil.rmtree(folder)

    if arguments.memory_slices:
        folder = Path(tempfile.mkdtemp(prefix="bench-ct-large-"))
        size = generate(folder, arguments.memory_slices)
        files, elapsed, rss, child_rss = measure("ours", folder)
        print(  # noqa: T201
            f"memory: {files} slices ({size / 1e6:.0f} MB) ingested in {elapsed:.1f} s, peak RSS {rss:.0f} MiB "
            f"in the main process, {child_rss:.0f} MiB in the largest worker (budget 400 MiB)"
        )
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
