"""Benchmark: lossy 12-bit JPEG Extended, our read path against dcmtk's ``dcmdjpeg`` (not a test; prints figures).

A synthetic 512×512 12-bit CT slice (``imaging.tests.corpus.formats.ct_12bit``) is compressed by dcmtk's
``dcmcjpeg +ee`` (IJG, quality 90) and its Start of Scan header damaged as real archives have it (Se = 0,
pylibjpeg issue 73). The contenders take turns, round after round (a, b, a, b, …), each decoding the file
``--calls`` times a round; the script prints each one's median time per file over the rounds, its ratio to ours,
and the largest difference of its pixels from ``dcmdjpeg``'s:

- ours: the import's path from file to stored values, ``read.read_dataset`` (which repairs the scan header)
  then ``render.iter_frames`` (pydicom and pylibjpeg-libjpeg);
- of ours, the frame alone: the repair and pylibjpeg-libjpeg's decode of the frame's bytes, already in memory;
- dcmtk's ``dcmdjpeg``, a process per file writing the decompressed file, as a script around dcmtk runs it;
- GDCM's Python wheel called directly (pydicom's GDCM plugin refuses 12-bit JPEG Extended), when
  ``python-gdcm`` is installed (``pip install python-gdcm==3.2.6`` in a scratch virtual environment).

Run: ``.venv/bin/python bench/jpeg12.py [--rounds N] [--calls N]``; dcmtk is Debian's ``dcmtk``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from libjpeg import decode  # noqa: E402
from pydicom.encaps import generate_frames  # noqa: E402

from bench.interleave import interleaved, report  # noqa: E402
from imaging import render  # noqa: E402
from imaging.jpeg import repair_pixel_data  # noqa: E402
from imaging.limits import Limits  # noqa: E402
from imaging.read import read_dataset  # noqa: E402
from imaging.sources import FileSource  # noqa: E402
from imaging.tests.corpus import formats  # noqa: E402

SIDE = 512


def seconds_per_call(function: Callable[[], object], calls: int) -> Callable[[], float]:
    """Return one round of `function`: it runs `calls` times and the round's figure is the mean seconds a call."""

    def round_() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - start) / calls

    return round_


def damaged_jpeg(folder: Path) -> Path:
    """Write the 12-bit slice as lossy JPEG Extended with the scan-header quirk; return its path."""
    original, compressed, damaged = folder / "ct.dcm", folder / "ct_jpeg.dcm", folder / "ct_jpeg_bad.dcm"
    formats.ct_12bit(SIDE, SIDE).save_as(original, enforce_file_format=True)
    subprocess.run(["dcmcjpeg", "+ee", str(original), str(compressed)], check=True)
    bad = pydicom.dcmread(compressed)
    data = bytearray(bad.PixelData)
    data[formats.scan_header(data) + 1] = 0
    bad.PixelData = bytes(data)
    bad.save_as(damaged)
    return damaged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="turns of each contender (at least 3)")
    parser.add_argument("--calls", type=int, default=20, help="files decoded per contender and round")
    options = parser.parse_args()
    if shutil.which("dcmdjpeg") is None:
        sys.exit("dcmtk is missing: apt-get install dcmtk (make bench installs it as root)")
    folder = Path(tempfile.mkdtemp(prefix="bench-jpeg12-"))
    try:
        damaged = damaged_jpeg(folder)
        raw = bytes(pydicom.dcmread(damaged).PixelData)
        limits = Limits()

        def ours() -> np.ndarray:
            dataset = read_dataset(FileSource(name="ct", path=damaged), limits=limits)
            return next(render.iter_frames(dataset))

        def dcmdjpeg() -> Path:
            out = folder / "out.dcm"
            subprocess.run(["dcmdjpeg", str(damaged), str(out)], check=True, capture_output=True)
            return out

        def frame_alone() -> np.ndarray:
            return decode(next(generate_frames(repair_pixel_data(raw), number_of_frames=1)))

        reference = pydicom.dcmread(dcmdjpeg()).pixel_array.astype(int)
        contenders = {
            "ours (read + repair + pylibjpeg)": ours,
            "of ours, the frame alone": frame_alone,
            "dcmtk dcmdjpeg (a process)": dcmdjpeg,
        }
        differences = {"ours (read + repair + pylibjpeg)": np.abs(ours().astype(int) - reference).max()}
        try:
            import gdcm  # noqa: PLC0415 - optional peer, installed only to compare
        except ImportError:
            gdcm = None
        if gdcm is not None:

            def with_gdcm() -> np.ndarray:
                reader = gdcm.ImageReader()
                reader.SetFileName(str(damaged))
                reader.Read()
                buffer = reader.GetImage().GetBuffer().encode("utf-8", "surrogateescape")
                return np.frombuffer(buffer, dtype=np.uint16).reshape(SIDE, SIDE)

            contenders["GDCM ImageReader (direct)"] = with_gdcm
            differences["GDCM ImageReader (direct)"] = np.abs(with_gdcm().astype(int) - reference).max()
        print(  # noqa: T201
            f"data: one {SIDE}×{SIDE} 12-bit CT slice, lossy JPEG Extended (dcmcjpeg +ee), scan header damaged; "
            f"{len(raw):,} bytes of JPEG in a {damaged.stat().st_size:,}-byte file\n"
            f"{options.rounds} interleaved rounds, {options.calls} decodes of the file per contender and round; "
            "milliseconds per file"
        )
        rounds = {name: seconds_per_call(function, options.calls) for name, function in contenders.items()}
        for line in report(interleaved(rounds, options.rounds), unit="ms", scale=1000):
            print(line)  # noqa: T201
        repair = seconds_per_call(lambda: repair_pixel_data(raw), 200)()
        print(f"of ours, the scan-header repair alone: {repair * 1000:.3f} ms")  # noqa: T201
        for name, difference in differences.items():
            print(f"max |Δ| of {name} from dcmdjpeg's stored values: {difference}")  # noqa: T201
        if gdcm is None:
            print("GDCM: python-gdcm is not installed (see the docstring to compare)")  # noqa: T201
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
