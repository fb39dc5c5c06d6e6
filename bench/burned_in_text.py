"""Benchmark: OCR for burned-in text on radiographs, ours against the ``tesseract`` program (not a test).

Generates eight 2,000×2,000 anatomy-like radiographs (``imaging.tests.corpus.burned_in.radiograph_pixels``) and
reads each three ways: with three lines of fake identifiers (text 20, 30, 45 and 60 px high, white at the top
left, or at the bottom left of an inverted image: black on white), without text, and (the first four) with only
a laterality or view marker (L, R, LT, AP). Each engine reads every image through
``imaging.burned_in.find_text`` (the same word filter and boxes for all).

The engines take turns, round after round (a, b, a, b, …), each reading all the images once a round. Printed:
per engine, images with text held, identifier lines covered by the boxes (80 % of a line's area), images
without text held (false positives) and marker-only images held (all from the first round; the engines are
deterministic); then its median over the rounds of the round's median seconds per image, and its ratio to ours.

- ours: Tesseract in this process through tesserocr, read twice (binarised by Otsu, then by Sauvola) at
  1,024 px, as the import does (``burned_in.tesseract_reader``);
- the peer: the same engine called another way, Debian's ``tesseract`` program (package ``tesseract-ocr``), a
  process per reading given the same reduced picture as PNG on its standard input, the same two binarisations,
  sparse-text page segmentation and model; one OpenMP thread unless ``--cli-threads`` says otherwise (the
  tesserocr wheel's engine has one).

``--variants`` adds the settings the choice was made among (Otsu or Sauvola alone, 1,400 and 2,000 px) and,
when installed, pytesseract and RapidOCR (``pip install pytesseract==0.3.13 rapidocr-onnxruntime==1.4.4``).
Run: ``.venv/bin/python bench/burned_in_text.py [--rounds N] [--quick] [--variants]``.
"""

import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.interleave import interleaved, report  # noqa: E402
from imaging import burned_in  # noqa: E402
from imaging.tests.corpus.burned_in import IDENTIFIERS, _font, draw_text, radiograph_pixels  # noqa: E402

SIDE = 2000
OURS = "ours: tesserocr, Otsu + Sauvola, 1024 px"
PEER = "tesseract program, Otsu + Sauvola, 1024 px"


def text_image(pixels: np.ndarray, size: int, dark: bool) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Return the radiograph with the identifiers drawn in, and the box of each line."""
    at = (size * 2, SIDE - 5 * size) if dark else (size * 2, size * 2)
    pixels = draw_text(pixels, IDENTIFIERS, at=at, size=size, value=4095)
    if dark:  # black on white, as an inverted (MONOCHROME1) radiograph shows it
        pixels = 4095 - pixels
    boxes, y = [], at[1]
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    for line in IDENTIFIERS:
        left, top, right, bottom = measure.textbbox((at[0], y), line, font=_font(size))
        boxes.append((left, top, right - left, bottom - top))
        y += round(size * 1.3)
    return Image.fromarray((pixels >> 4).astype(np.uint8)), boxes


def marker_image(pixels: np.ndarray, marker: str) -> Image.Image:
    pixels = draw_text(pixels, (marker,), at=(SIDE - 300, 120), size=110, value=4095)
    return Image.fromarray((pixels >> 4).astype(np.uint8))


def covered(regions, box) -> bool:
    mask = np.zeros((SIDE, SIDE), bool)
    for x, y, w, h in regions:
        mask[y : y + h, x : x + w] = True
    x, y, w, h = box
    return mask[y : y + h, x : x + w].mean() >= 0.8


def tesseract_program_reader(methods: tuple[str, ...], threads: int):
    """Return a word reader running Debian's ``tesseract`` once per binarisation, or None when it is missing."""
    program = shutil.which("tesseract")
    if program is None:
        return None
    environment = {**os.environ, "OMP_THREAD_LIMIT": str(threads)}
    tessdata = os.environ.get("TESSDATA_PREFIX", burned_in.DEBIAN_TESSDATA)

    def read(picture):
        png = io.BytesIO()
        picture.save(png, format="PNG", compress_level=1)
        words = []
        for method in methods:
            command = [program, "stdin", "stdout", "--tessdata-dir", tessdata, "-l", "eng", "--psm", "11"]
            command += ["-c", f"thresholding_method={method}", "tsv"]
            result = subprocess.run(command, input=png.getvalue(), capture_output=True, check=True, env=environment)
            rows = csv.DictReader(io.StringIO(result.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE)
            words += [
                burned_in.Word((int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"])), text, conf)
                for row in rows
                if row["level"] == "5" and (text := row["text"] or "").strip() and (conf := float(row["conf"])) >= 0
            ]
        return words

    return read


def pytesseract_reader():
    try:
        import pytesseract
    except ImportError:
        return None

    def read(picture):
        data = pytesseract.image_to_data(picture, config="--psm 11", output_type=pytesseract.Output.DICT)
        return [
            burned_in.Word((left, top, width, height), text, float(conf))
            for text, conf, left, top, width, height in zip(
                data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"], strict=True
            )
            if text.strip()
        ]

    return read


def rapidocr_reader():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()

    def read(picture):
        result, _ = engine(np.asarray(picture.convert("RGB")))
        words = []
        for points, text, score in result or []:
            xs, ys = [int(p[0]) for p in points], [int(p[1]) for p in points]
            box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
            words.append(burned_in.Word(box, text, 100 * float(score)))
        return words

    return read


def engines(options) -> dict:
    """Return the engines to compare, ours first: name → (word reader or None, side read)."""
    chosen = {
        OURS: (burned_in.tesseract_reader(), burned_in.OCR_SIDE),
        PEER: (tesseract_program_reader(burned_in.THRESHOLDING_METHODS, options.cli_threads), burned_in.OCR_SIDE),
    }
    if options.variants:
        chosen |= {
            "tesserocr, Otsu, 1024 px": (burned_in.tesseract_reader(("0",)), 1024),
            "tesserocr, Otsu, 1400 px": (burned_in.tesseract_reader(("0",)), 1400),
            "tesserocr, Otsu, 2000 px (full)": (burned_in.tesseract_reader(("0",)), SIDE),
            "tesserocr, Sauvola, 1024 px": (burned_in.tesseract_reader(("2",)), 1024),
            "tesserocr, Otsu + Sauvola, 1400 px": (burned_in.tesseract_reader(), 1400),
            "pytesseract, Otsu, 1024 px": (pytesseract_reader(), 1024),
            "RapidOCR, 1024 px": (rapidocr_reader(), 1024),
        }
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="turns of each engine over all the images (≥ 3)")
    parser.add_argument("--quick", action="store_true", help="half the images")
    parser.add_argument("--variants", action="store_true", help="also the other settings and engines")
    parser.add_argument("--cli-threads", type=int, default=1, help="OpenMP threads of the tesseract program")
    options = parser.parse_args()
    sizes = (20, 30, 45, 60)
    radiographs = [radiograph_pixels(width=SIDE, height=SIDE, seed=100 + seed) for seed in range(8)]
    styles = [(size, dark) for size in sizes for dark in (False, True)]
    texts = [text_image(pixels, size, dark) for pixels, (size, dark) in zip(radiographs, styles, strict=True)]
    cleans = [Image.fromarray((pixels >> 4).astype(np.uint8)) for pixels in radiographs]
    markers = [marker_image(radiographs[index], marker) for index, marker in enumerate(("L", "R", "LT", "AP"))]
    if options.quick:
        texts, cleans, markers = texts[::2], cleans[::2], markers[::2]
    available, missing = {}, []
    for name, (reader, side) in engines(options).items():
        if reader is None:
            missing.append(name)
        else:
            available[name] = (reader, side)
    if OURS not in available:
        sys.exit("tesserocr or Debian's tesseract-ocr-eng model is missing: make bench installs the model as root")
    images = [("text", picture, boxes) for picture, boxes in texts]
    images += [("clean", picture, []) for picture in cleans] + [("marker", picture, []) for picture in markers]
    found: dict[str, dict[str, int]] = {}

    def one_round(name: str):
        reader, side = available[name]

        def round_() -> float:
            seconds, counts = [], {"text": 0, "lines": 0, "clean": 0, "marker": 0}
            for kind, picture, boxes in images:
                start = time.perf_counter()
                result = burned_in.find_text(picture, read_words=reader, side=side)
                seconds.append(time.perf_counter() - start)
                counts[kind] += result.held
                counts["lines"] += sum(covered(result.regions, box) for box in boxes)
            found.setdefault(name, counts)
            return statistics.median(seconds)

        return round_

    lines_total = len(texts) * 3
    print(  # noqa: T201
        f"data: {len(texts)} radiographs with text ({lines_total} identifier lines, text {sizes} px high), "
        f"{len(cleans)} without, {len(markers)} with a marker only; {SIDE}×{SIDE} 8-bit pixels each "
        f"({len(images)} images, {len(images) * SIDE**2 / 1e6:.0f} megapixels); "
        f"{options.rounds} interleaved rounds over all of them\n"
    )
    figures = interleaved({name: one_round(name) for name in available}, options.rounds)
    width = max(len(name) for name in available)
    print(f"{'engine':{width}}  {'text held':>9}  {'lines':>7}  {'clean held':>10}  {'marker held':>11}")  # noqa: T201
    for name, counts in found.items():
        print(  # noqa: T201
            f"{name:{width}}  {counts['text']:>5}/{len(texts):<3}  {counts['lines']:>3}/{lines_total:<3}"
            f"  {counts['clean']:>6}/{len(cleans):<3}  {counts['marker']:>7}/{len(markers):<3}"
        )
    print("\nseconds per image (the round's median)")  # noqa: T201
    for line in report(figures, unit="s"):
        print(line)  # noqa: T201
    for name in missing:
        print(f"{name}: not installed")  # noqa: T201


if __name__ == "__main__":
    main()
