"""Benchmark: OCR engines for burned-in text on radiographs (not a test; prints figures).

Generates 2,000×2,000 anatomy-like radiographs (``cases.tests.corpus.burned_in.radiograph_pixels``): eight
with three lines of fake identifiers (text 20, 30, 45 and 60 px high, white at the top left, or at the
bottom left of an inverted image: black on white), eight without text and four with only a laterality or view
marker (L, R, LT, AP). Each engine reads every image through ``cases.imaging.burned_in.find_text`` (the same
word filter and boxes for all) and the script prints, per engine: median seconds per image, images with text
held, identifier lines covered by the boxes (80 % of a line's area), images without text held (false
positives) and marker-only images held.

Engines: tesserocr (Tesseract in process; the project's reads twice, binarised by Otsu and by Sauvola, at
1,024 px), pytesseract (the ``tesseract`` program per image, its default Otsu) and RapidOCR (ONNX models);
the last two are skipped when not installed (``pip install pytesseract==0.3.13 rapidocr-onnxruntime==1.4.4``).
Run: ``.venv/bin/python bench/burned_in_text.py [--quick]``.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cases.imaging import burned_in  # noqa: E402
from cases.tests.corpus.burned_in import IDENTIFIERS, _font, draw_text, radiograph_pixels  # noqa: E402

SIDE = 2000


def text_image(seed: int, size: int, dark: bool) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Return a radiograph with the identifiers drawn in, and the box of each line."""
    pixels = radiograph_pixels(width=SIDE, height=SIDE, seed=seed)
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


def marker_image(seed: int, marker: str) -> Image.Image:
    pixels = radiograph_pixels(width=SIDE, height=SIDE, seed=seed)
    pixels = draw_text(pixels, (marker,), at=(SIDE - 300, 120), size=110, value=4095)
    return Image.fromarray((pixels >> 4).astype(np.uint8))


def covered(regions, box) -> bool:
    mask = np.zeros((SIDE, SIDE), bool)
    for x, y, w, h in regions:
        mask[y : y + h, x : x + w] = True
    x, y, w, h = box
    return mask[y : y + h, x : x + w].mean() >= 0.8


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="half the images (RapidOCR is slow)")
    options = parser.parse_args()
    sizes = (20, 30, 45, 60)
    texts = [text_image(100 + index, size, dark) for index, size in enumerate(sizes) for dark in (False, True)]
    cleans = [
        Image.fromarray((radiograph_pixels(width=SIDE, height=SIDE, seed=200 + s) >> 4).astype(np.uint8))
        for s in range(8)
    ]
    markers = [marker_image(300 + index, marker) for index, marker in enumerate(("L", "R", "LT", "AP"))]
    if options.quick:
        texts, cleans, markers = texts[::2], cleans[::2], markers[::2]
    engines = [
        ("tesserocr Otsu, 1024 px", burned_in.tesseract_reader(("0",)), 1024),
        ("tesserocr Otsu, 1400 px", burned_in.tesseract_reader(("0",)), 1400),
        ("tesserocr Otsu, 2000 px", burned_in.tesseract_reader(("0",)), SIDE),
        ("tesserocr Sauvola, 1024 px", burned_in.tesseract_reader(("2",)), 1024),
        ("tesserocr Otsu+Sauvola, 1024 px", burned_in.tesseract_reader(("0", "2")), 1024),
        ("tesserocr Otsu+Sauvola, 1400 px", burned_in.tesseract_reader(("0", "2")), 1400),
        ("pytesseract Otsu, 1024 px", pytesseract_reader(), 1024),
        ("RapidOCR, 1024 px", rapidocr_reader(), 1024),
    ]
    lines_total = len(texts) * 3
    print(  # noqa: T201
        f"{len(texts)} radiographs with text ({lines_total} lines), {len(cleans)} without, {len(markers)} markers only"
    )
    print(f"{SIDE}×{SIDE} pixels each; text heights {sizes} px\n")  # noqa: T201
    print(f"{'engine':32} {'s/image':>8} {'text held':>10} {'lines':>7} {'clean held':>11} {'marker held':>12}")  # noqa: T201
    for name, reader, side in engines:
        if reader is None:
            print(f"{name:32} not installed")  # noqa: T201
            continue
        seconds, held, lines, false_held, marker_held = [], 0, 0, 0, 0
        for picture, boxes in texts:
            start = time.perf_counter()
            found = burned_in.find_text(picture, read_words=reader, side=side)
            seconds.append(time.perf_counter() - start)
            held += found.held
            lines += sum(covered(found.regions, box) for box in boxes)
        for picture in cleans:
            start = time.perf_counter()
            false_held += burned_in.find_text(picture, read_words=reader, side=side).held
            seconds.append(time.perf_counter() - start)
        for picture in markers:
            marker_held += burned_in.find_text(picture, read_words=reader, side=side).held
        print(  # noqa: T201
            f"{name:32} {statistics.median(seconds):8.2f} {held:>6}/{len(texts):<3} {lines:>3}/{lines_total:<3}"
            f" {false_held:>7}/{len(cleans):<3} {marker_held:>8}/{len(markers):<3}"
        )


if __name__ == "__main__":
    main()
