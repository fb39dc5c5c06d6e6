"""Benchmark: lossy 12-bit JPEG Extended, our scan-header repair + pylibjpeg against GDCM and dcmtk (not a test).

A synthetic 512×512 12-bit CT slice (``cases.tests.corpus.formats.ct_12bit``)
is compressed by dcmtk's ``dcmcjpeg +ee`` (IJG, quality 90) and its Start of
Scan header damaged as real archives have it (Se = 0, pylibjpeg issue 73).
For the damaged file the script prints, per frame: our path
(``jpeg.repair_pixel_data`` + pylibjpeg-libjpeg), the repair alone, GDCM's
Python wheel called directly (pydicom's GDCM plugin refuses 12-bit JPEG
Extended) when ``python-gdcm`` is installed, and dcmtk's ``dcmdjpeg`` as a
process per file; then the largest difference of each decoder from
``dcmdjpeg``'s pixels.

Run: ``.venv/bin/python bench/jpeg12.py [--repeat N]``; dcmtk is Debian's
``dcmtk``.  For the GDCM column, in a scratch virtual environment:
``pip install python-gdcm==3.2.6`` beside this project's requirements.
"""

from __future__ import annotations

import argparse
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

from cases.imaging.jpeg import repair_pixel_data  # noqa: E402
from cases.tests.corpus import formats  # noqa: E402


def per_call_ms(function: Callable[[], object], repeat: int) -> float:
    function()
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - start) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    repeat = parser.parse_args().repeat
    folder = Path(tempfile.mkdtemp(prefix="bench-jpeg12-"))
    original = folder / "ct.dcm"
    formats.ct_12bit(512, 512).save_as(original, enforce_file_format=True)
    compressed, damaged = folder / "ct_jpeg.dcm", folder / "ct_jpeg_bad.dcm"
    subprocess.run(["dcmcjpeg", "+ee", str(original), str(compressed)], check=True)
    bad = pydicom.dcmread(compressed)
    data = bytearray(bad.PixelData)
    data[formats.scan_header(data) + 1] = 0
    bad.PixelData = bytes(data)
    bad.save_as(damaged)
    raw = bytes(bad.PixelData)

    def ours() -> np.ndarray:
        return decode(next(generate_frames(repair_pixel_data(raw), number_of_frames=1)))

    def dcmdjpeg() -> None:
        subprocess.run(["dcmdjpeg", str(damaged), str(folder / "out.dcm")], check=True, capture_output=True)

    dcmdjpeg()
    reference = pydicom.dcmread(folder / "out.dcm").pixel_array.astype(int)
    print(f"512×512 12-bit CT slice, {len(raw):,} bytes of JPEG; {repeat} runs each")  # noqa: T201
    rows = [
        ("repair + pylibjpeg", per_call_ms(ours, repeat), int(np.abs(ours().astype(int) - reference).max())),
        ("repair alone", per_call_ms(lambda: repair_pixel_data(raw), repeat), None),
    ]
    try:
        import gdcm  # noqa: PLC0415 - optional peer, installed only to compare
    except ImportError:
        print("GDCM: python-gdcm is not installed (see the docstring to compare)")  # noqa: T201
    else:

        def with_gdcm() -> np.ndarray:
            reader = gdcm.ImageReader()
            reader.SetFileName(str(damaged))
            reader.Read()
            buffer = reader.GetImage().GetBuffer().encode("utf-8", "surrogateescape")
            return np.frombuffer(buffer, dtype=np.uint16).reshape(512, 512)

        rows.append(("GDCM (direct)", per_call_ms(with_gdcm, repeat), int(np.abs(with_gdcm() - reference).max())))
    rows.append(("dcmdjpeg (process)", per_call_ms(dcmdjpeg, max(1, repeat // 5)), 0))
    for name, ms, difference in rows:
        versus = "" if difference is None else f"   max |Δ| from dcmdjpeg: {difference}"
        print(f"{name:<20} {ms:8.2f} ms{versus}")  # noqa: T201


if __name__ == "__main__":
    main()
