"""Benchmark: DICOM → web image, stage by stage, and against dcmtk's dcmj2pnm (not a test; prints figures).

For each sample image: the time to decode the first frame, to window it
(Modality LUT, default window, VOI LUT to 8 bits), and to encode it as PNG
(zlib levels 1 and 6), JPEG quality 90, WebP quality 90 and lossless WebP,
with each encoding's size.  Then the whole pipeline per image
(``read_dataset`` + ``render_frame``: decode, window, PNG web image and JPEG
thumbnail) beside dcmtk's ``dcmj2pnm`` writing a PNG of the same file with
the same window, run as one process per image as a batch job would.

Samples: the CT slice of ``pydicom.examples``, pydicom's bundled 512×512 CT
and 256×1024 whole-body NM images (each twice: stored uncompressed for the
run, which dcmj2pnm can read, and JPEG 2000 as bundled, which it cannot), a
12-bit JPEG Extended NM image, an MR slice, an ultrasound RGB frame, and a
synthetic 12-bit 2048×1720 pelvis radiograph (pydicom bundles no full-size
CR/DX) built from ``demo.phantoms`` with quantum noise.

Run: ``.venv/bin/python bench/dicom_render.py [--repeat N]``.  dcmtk is
Debian's ``dcmtk`` package (``apt-get install -y dcmtk``); without it the
dcmtk columns say so.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np  # noqa: E402
import PIL  # noqa: E402
import PIL.Image  # noqa: E402
import pydicom  # noqa: E402
from pydicom import examples  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.dataset import FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

from demo import phantoms  # noqa: E402
from imaging.limits import Limits  # noqa: E402
from imaging.read import read_dataset  # noqa: E402
from imaging.render import (  # noqa: E402
    is_greyscale,
    iter_frames,
    modality_lut,
    render_frame,
    to_display,
)
from imaging.sources import Source  # noqa: E402
from imaging.values import compact_values  # noqa: E402
from imaging.windows import default_window  # noqa: E402

DCMJ2PNM = Path("/usr/bin/dcmj2pnm")
LIMITS = Limits()


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Return the median milliseconds of repeat runs of action, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def uncompressed_copy(name: str, folder: Path) -> Path:
    """Write a bundled compressed file as Explicit VR Little Endian, so dcmj2pnm can read it too."""
    ds = pydicom.dcmread(get_testdata_file(name, download=False))
    ds.decompress()
    path = folder / f"{Path(name).stem}_raw.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def synthetic_radiograph(folder: Path) -> Path:
    """Write a 12-bit 2048×1720 DX image made from the demo pelvis phantom plus Gaussian quantum noise."""
    picture = phantoms.pelvis_radiograph(severity=2).resize((2048, 1720), PIL.Image.Resampling.BICUBIC)
    rng = np.random.default_rng(0)
    values = np.asarray(picture, dtype=np.float32) * 16 + rng.normal(0, 12, (1720, 2048))
    pixels = np.clip(values, 0, 4095).astype(np.uint16)

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image - For Presentation
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.BodyPartExamined = "DX", "PELVIS"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.ImagerPixelSpacing = [0.2, 0.2]
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.PixelData = pixels.tobytes()
    path = folder / "synthetic_dx.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def samples(folder: Path) -> list[tuple[str, Path]]:
    return [
        ("CT examples.ct", Path(examples.get_path("ct"))),
        ("CT J2K_pixelrep_mismatch", uncompressed_copy("J2K_pixelrep_mismatch.dcm", folder)),
        ("CT same, JPEG 2000 as stored", Path(get_testdata_file("J2K_pixelrep_mismatch.dcm", download=False))),
        ("MR examples_overlay", Path(get_testdata_file("examples_overlay.dcm", download=False))),
        ("NM JPEG2000 (whole body)", uncompressed_copy("JPEG2000.dcm", folder)),
        ("NM same, JPEG 2000 as stored", Path(get_testdata_file("JPEG2000.dcm", download=False))),
        ("NM JPGExtended (12-bit JPEG)", Path(get_testdata_file("JPGExtended.dcm", download=False))),
        ("DX synthetic pelvis", synthetic_radiograph(folder)),
        ("US examples_rgb_color", Path(get_testdata_file("examples_rgb_color.dcm", download=False))),
    ]


def encoders() -> dict[str, Callable[[PIL.Image.Image], bytes]]:
    def save(**options: object) -> Callable[[PIL.Image.Image], bytes]:
        def encode(picture: PIL.Image.Image) -> bytes:
            buffer = io.BytesIO()
            picture.save(buffer, **options)
            return buffer.getvalue()

        return encode

    def grey_palette(encode: Callable[[PIL.Image.Image], bytes]) -> Callable[[PIL.Image.Image], bytes]:
        def palette_encode(picture: PIL.Image.Image) -> bytes:
            if picture.mode != "L":
                return encode(picture)
            indexed = picture.copy()
            indexed.putpalette([level for grey in range(256) for level in (grey, grey, grey)])
            return encode(indexed)

        return palette_encode

    return {
        "PNG-1": save(format="PNG", compress_level=1),
        "PNG-1P": grey_palette(save(format="PNG", compress_level=1, compress_type=zlib.Z_RLE)),
        "PNG-6": save(format="PNG", compress_level=6),
        "JPEG-90": save(format="JPEG", quality=90),
        "WebP-90": save(format="WEBP", quality=90),
        "WebP-LL": save(format="WEBP", lossless=True),
    }


def dcmtk_ms(path: Path, window: tuple[float, float] | None, out: Path, repeat: int) -> float | None:
    if not DCMJ2PNM.exists():
        return None
    command = [str(DCMJ2PNM), "--write-png", "--no-overlays", "--quiet"]  # we do not burn overlays in either
    if window is not None:
        command += ["--set-window", f"{window[0]:g}", f"{window[1]:g}"]
    command += [str(path), str(out)]
    if subprocess.run(command, capture_output=True).returncode != 0:
        return math.nan  # dcmj2pnm has no decoder for it (the free dcmtk reads no JPEG 2000)
    milliseconds, _ = timed(lambda: subprocess.run(command, check=True), repeat)
    return milliseconds


def agreement(pixels: np.ndarray, dcmtk_png: Path) -> str:
    """Return the largest difference in grey (or colour) levels between our display pixels and dcmtk's PNG."""
    theirs = np.asarray(PIL.Image.open(dcmtk_png))
    if theirs.shape != pixels.shape:
        return f"shape {theirs.shape}"
    return str(int(np.abs(theirs.astype(int) - pixels.astype(int)).max()))


def dcmtk_version() -> str:
    if not DCMJ2PNM.exists():
        return "missing (apt-get install -y dcmtk to compare)"
    first = subprocess.run([str(DCMJ2PNM), "--version"], capture_output=True, text=True).stdout.splitlines()
    return first[0].strip("$ ").removeprefix("dcmtk: ") if first else "present"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (median reported)")
    repeat = parser.parse_args().repeat

    print(  # noqa: T201
        f"Python {platform.python_version()}, pydicom {pydicom.__version__}, numpy {np.__version__}, "
        f"Pillow {PIL.__version__}, {os.cpu_count()} cores; dcmtk: {dcmtk_version()}"
    )
    print(f"Median of {repeat} runs, milliseconds; sizes in kB (1000 bytes).\n")  # noqa: T201

    codecs = encoders()
    header = ["file", "pixels", "file kB", "decode ms", "window ms"]
    header += [f"{name} ms / kB" for name in codecs]
    header += ["values kB", "ours ms", "dcmj2pnm ms", "ours/dcmtk", "max Δ vs dcmtk"]
    print("| " + " | ".join(header) + " |")  # noqa: T201
    print("|" + "|".join("---" for _ in header) + "|")  # noqa: T201

    total_bytes = total_pixels = count = 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for label, path in samples(folder):
            data = path.read_bytes()
            source = Source(path.name, data)
            ds = read_dataset(source, limits=LIMITS)
            decode_ms, frame = timed(lambda ds=ds: next(iter_frames(ds)), repeat)

            def window_stage(ds=ds, frame=frame):
                if not is_greyscale(ds):
                    return to_display(frame, ds, None), None, frame
                values = modality_lut(frame, ds)
                window = default_window(ds, values)
                return to_display(values, ds, window), window, values

            window_ms, (pixels, window, values) = timed(window_stage, repeat)
            picture = PIL.Image.fromarray(pixels)
            cells = [
                label,
                f"{picture.width}×{picture.height}",
                f"{len(data) / 1000:.0f}",
                f"{decode_ms:.1f}",
                f"{window_ms:.1f}",
            ]
            for encode in codecs.values():
                encode_ms, encoded = timed(lambda encode=encode, picture=picture: encode(picture), repeat)
                cells.append(f"{encode_ms:.1f} / {len(encoded) / 1000:.0f}")
            cells.append(f"{len(compact_values(values)) / 1000:.0f}" if window is not None else "–")

            def ours(source=source):
                dataset = read_dataset(source, limits=LIMITS)
                return render_frame(next(iter_frames(dataset)), dataset)

            ours_ms, _ = timed(ours, repeat)
            theirs = dcmtk_ms(path, (window.center, window.width) if window else None, folder / "out.png", repeat)
            cells.append(f"{ours_ms:.1f}")
            if theirs is None:
                cells += ["missing", "–", "–"]
            elif math.isnan(theirs):
                cells += ["cannot decode", "–", "–"]
            else:
                cells += [f"{theirs:.1f}", f"{ours_ms / theirs:.2f}", agreement(pixels, folder / "out.png")]
            print("| " + " | ".join(cells) + " |")  # noqa: T201
            total_bytes += len(data)
            total_pixels += picture.width * picture.height
            count += 1

    print(  # noqa: T201
        f"\nData: {count} images, {total_pixels / 1e6:.1f} megapixels, {total_bytes / 1e6:.1f} MB of DICOM. "
        "'PNG-1P' is PNG level 1, RLE strategy, grey images as a grey-ramp palette (unfiltered), as ours for CT, "
        "MR and PET; 'values kB' is compact_values (zlib int16/float32 for live windowing); 'ours' is read_dataset + "
        "render_frame (decode, window, PNG level 1 web image, JPEG q85 thumbnail) in this process; dcmj2pnm "
        "is one process per image writing one PNG (zlib's default level), as a batch job would run it, with the "
        "same window; 'max Δ' compares its pixels with ours (0-255 levels)."
    )
    if shutil.which("dcmj2pnm") is None and not DCMJ2PNM.exists():
        print("dcmj2pnm is missing: install Debian's dcmtk (apt-get install -y dcmtk) for the comparison.")  # noqa: T201


if __name__ == "__main__":
    main()
