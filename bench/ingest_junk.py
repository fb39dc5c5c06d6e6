"""Benchmark: junk and bomb inputs imported at full size (not a test; prints figures). Run: ``bench/ingest.py --junk``.

Imports, each in a fresh process with ``import_study``, the junk and bomb inputs of
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mib() -> tuple[float, float]:
    """Return the peak RSS of this process and of its largest child (a worker), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", metavar="REGEX", help="the inputs whose label matches REGEX")
    parser.add_argument("--junk-generate", metavar="FOLDER")
    parser.add_argument("--junk-child", nargs="+", metavar="PATH")
    arguments = parser.parse_args(argv)
    if arguments.junk_generate:
        for label, paths in junk_inputs(Path(arguments.junk_generate), arguments.only):
            print(f"{label}\t{'|'.join(map(str, paths))}")  # noqa: T201
    elif arguments.junk_child:
        junk_child([Path(path) for path in arguments.junk_child])
    else:
        junk_bench(arguments.only)


if __name__ == "__main__":
    main()
