"""Which images may carry burned-in text, and where a radiograph's pixels show text.

Two rules. Images of modalities and classes that are usually screen or video captures, and any image made
after the examination, are held for the author whatever Burned In Annotation says (`burned_in_risk`).
Projection radiographs are held only when OCR finds text other than positioning markers in their pixels
(`find_text`), which also gives the boxes around that text so the author confirms masks instead of drawing
them. The OCR engine is Tesseract through tesserocr (``bench/burned_in_text.py`` measured it against
pytesseract and RapidOCR); without it every radiograph is held, unchecked.

References
----------
DICOM PS3.15 E.3.1 (Clean Pixel Data Option: burned-in text is not cleaned here, so the author checks it);
PS3.3 C.7.6.1.1.2 (Image Type), C.7.6.1.1.5 (Burned In Annotation), C.8.6.1 (SC Equipment, Conversion Type).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import PIL.Image
from pydicom.dataset import Dataset

__all__ = [
    "HELD_MODALITIES",
    "MARKERS",
    "TEXT_CHECKED_MODALITIES",
    "TextFound",
    "Word",
    "burned_in_risk",
    "find_text",
    "needs_text_check",
    "text_regions",
]

logger = logging.getLogger(__name__)

HELD_MODALITIES = frozenset({"US", "IVUS", "XA", "RF", "ES", "XC", "OP", "SM", "GM", "SC", "OT"})
"""Modalities whose images are held whatever their flag says: ultrasound, fluoroscopy and angiography (the
console's overlay is burned into what is stored), endoscopy, photographs, microscopy, secondary captures."""

TEXT_CHECKED_MODALITIES = frozenset({"CR", "DX", "MG", "RG", "PX", "IO"})
"""Projection radiographs: checked for text in their pixels instead of held outright."""

_HELD_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture and its multi-frame classes (.7.1 - .7.4)
    "1.2.840.10008.5.1.4.1.1.77",  # VL: endoscopic, microscopic, photographic, ophthalmic, dermoscopic, slides
    "1.2.840.10008.5.1.4.1.1.6",  # Ultrasound (.6.1), Enhanced US Volume (.6.2)
    "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame
    "1.2.840.10008.5.1.4.1.1.12",  # X-Ray Angiographic and Radiofluoroscopic, enhanced or not
    "1.2.840.10008.5.1.4.1.1.104",  # encapsulated documents (PDF, CDA): reports
)
"""SOP classes held, with every class under them (a UID that starts with one and a dot)."""

_CAPTURE_TYPES = frozenset(
    {"SCREEN SAVE", "SCREENSHOT", "SCREEN CAPTURE", "SECONDARY CAPTURE", "DOSE INFO", "DOSE REPORT", "REPORT"}
)
"""Image Type values (any position, "_" read as " ") that vendors give screen saves, dose sheets and reports."""

MARKERS = frozenset(
    {
        *("L", "R", "LT", "RT", "LEFT", "RIGHT", "SIN", "DEX"),
        *("AP", "PA", "LAT", "LATERAL", "OBL", "OBLIQUE", "LPO", "RPO", "LAO", "RAO", "LLD", "RLD", "DECUB"),
        *("SUPINE", "PRONE", "ERECT", "UPRIGHT", "STANDING", "SITTING", "PORTABLE", "PORT", "WB"),
        *("INSP", "EXP", "FLEX", "EXT", "CC", "MLO", "ML", "LM", "XCCL", "LCC", "RCC", "LMLO", "RMLO"),
    }
)
"""Positioning and laterality markers a radiographer puts on the film: expected, never identifying."""

OCR_SIDE = 1024
"""Long side (pixels) of the picture given to the OCR: on 2,000-pixel radiographs several times faster than
the full image, with no false text where the full image had some (``bench/burned_in_text.py``)."""
MIN_CONFIDENCE = 60
"""Tesseract's word confidence (0-100) from which a word counts: real text measured 86-97, noise below 50."""
THRESHOLDING_METHODS = ("0", "2")
"""Tesseract reads twice, binarised by Otsu over the whole picture and by Sauvola's local threshold: the first
misses text over a graded background (soft tissue), the second breaks words Otsu reads whole."""
DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"

_WORD_CHARACTERS = re.compile(r"[^0-9A-Z]")


def _upper_values(value: object) -> list[str]:
    values = [value] if isinstance(value, str) else list(value)
    return [str(item or "").strip().upper().replace("_", " ") for item in values]


def burned_in_risk(ds: Dataset, *, extra_modalities: Iterable[str] = ()) -> bool:
    """Return whether `ds` is held for the author's check of burned-in text whatever its pixels show.

    Held: Burned In Annotation ``YES``; a modality of `HELD_MODALITIES` or `extra_modalities` (a site's own);
    a SOP class that is a capture, a photograph, an ultrasound, fluoroscopy or a document; an Image Type whose
    second value is ``SECONDARY`` (made after the examination: screen saves, dose sheets, workstation
    renderings) or that names a screen save, dose sheet or report; a Conversion Type. An explicit ``NO`` never
    releases those: ultrasound machines write ``NO`` over burned-in names. ``DERIVED\\PRIMARY`` images (a
    reconstruction or subtraction made within the examination) are not held for their type.

    References
    ----------
    DICOM PS3.3 C.7.6.1.1.2 (Image Type: SECONDARY "identifies images created after the initial patient
    examination"), C.7.6.1.1.5 (Burned In Annotation), C.8.6.1 (Conversion Type).
    """
    if str(ds.get("BurnedInAnnotation", "") or "").strip().upper() == "YES":
        return True
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality in HELD_MODALITIES or modality in {item.strip().upper() for item in extra_modalities}:
        return True
    sop_class = str(ds.get("SOPClassUID", "") or "")
    meta = getattr(ds, "file_meta", None)
    if not sop_class and meta is not None:
        sop_class = str(meta.get("MediaStorageSOPClassUID", "") or "")
    if any(sop_class == held or sop_class.startswith(held + ".") for held in _HELD_SOP_CLASSES):
        return True
    image_type = _upper_values(ds.get("ImageType") or [])
    if len(image_type) > 1 and image_type[1] == "SECONDARY" or _CAPTURE_TYPES.intersection(image_type):
        return True
    return "ConversionType" in ds


def needs_text_check(ds: Dataset) -> bool:
    """Return whether `ds` is a projection radiograph whose pixels decide whether it is held."""
    return str(ds.get("Modality", "") or "").strip().upper() in TEXT_CHECKED_MODALITIES


@dataclass(frozen=True)
class Word:
    """A word the OCR read: its box (x, y, width, height in the picture read) and confidence (0-100)."""

    box: tuple[int, int, int, int]
    text: str
    confidence: float


@dataclass(frozen=True)
class TextFound:
    """What the text check found: boxes around text that is not a marker, or that it could not look."""

    regions: list[tuple[int, int, int, int]]
    checked: bool

    @property
    def held(self) -> bool:
        """Hold the image when text was found, or when the OCR could not look at it."""
        return bool(self.regions) or not self.checked


def is_text(word: Word) -> bool:
    """Return whether an OCR word is text someone wrote (not a marker, not noise read as letters)."""
    letters = _WORD_CHARACTERS.sub("", word.text.upper())
    return word.confidence >= MIN_CONFIDENCE and len(letters) >= 2 and letters not in MARKERS


def text_regions(
    words: Iterable[Word], *, pixels: np.ndarray | None = None, scale: float = 1.0, pad: float = 0.25
) -> list[tuple[int, int, int, int]]:
    """Return boxes around the text among `words`, one per line, padded by `pad` of the line's height.

    A line starts from the words that count as text (`is_text`) and takes in every other word read on its row
    within two heights, whatever its confidence; then, given the grey `pixels` read, the strokes of the text's
    colour that continue it and the lines of the same colour just above or below (`_complete`): a name half
    over bone is read in pieces, or not at all, and the mask must cover all of it. `scale` maps the boxes
    from the picture read to the image (the OCR reads a reduced copy).
    """
    words = sorted(words, key=lambda word: (word.box[1], word.box[0]))
    lines: list[list[int]] = []  # left, top, right, bottom
    for word in (word for word in words if is_text(word)):
        if not any(_join(line, word) for line in lines):
            x, y, w, h = word.box
            lines.append([x, y, x + w, y + h])
    for word in words:
        if not is_text(word) and _WORD_CHARACTERS.sub("", word.text.upper()) not in MARKERS:
            any(_join(line, word) for line in lines)
    if pixels is not None:
        lines = _complete(lines, pixels)
    regions = []
    for left, top, right, bottom in lines:
        margin = pad * (bottom - top)
        x0, y0 = max(0, int((left - margin) * scale)), max(0, int((top - margin) * scale))
        x1, y1 = int(np.ceil((right + margin) * scale)), int(np.ceil((bottom + margin) * scale))
        regions.append((x0, y0, x1 - x0, y1 - y0))
    return regions


def _ink(line: list[int], pixels: np.ndarray) -> tuple[float, float]:
    """Return the grey level of a line's text and the tolerance around it.

    The background is the median of a ring just outside the line; the text is whichever extreme of the line's
    pixels lies farther from it: white or black text.
    """
    left, top, right, bottom = line
    word = pixels[top:bottom, left:right].astype(np.int16)
    ring = pixels[max(0, top - 2) : bottom + 2, max(0, left - 2) : right + 2].astype(np.int16)
    background = float(np.median(np.concatenate([ring[0], ring[-1], ring[:, 0], ring[:, -1]])))
    low, high = np.percentile(word, (5, 95))
    ink = high if high - background >= background - low else low
    return float(ink), max(8.0, 0.12 * abs(ink - background))


def _inked(pixels: np.ndarray, top: int, bottom: int, ink: float, tolerance: float) -> np.ndarray:
    band = pixels[max(0, top) : max(0, bottom)].astype(np.int16)
    return np.abs(band - ink) <= tolerance


def _extend_along_ink(line: list[int], pixels: np.ndarray, ink: float, tolerance: float) -> None:
    """Widen `line` over the columns beside it that hold strokes of its text's colour, gaps under one height.

    A column counts when some but not all of the line's band (its rows and a fifth of its height above and
    below) has the text's colour, so a uniform bright bone behind white text does not.
    """
    left, top, right, bottom = line
    height = bottom - top
    margin = max(1, height // 5)
    inked = _inked(pixels, top - margin, bottom + margin, ink, tolerance)
    counts = inked.sum(axis=0)
    strokes = (counts > 0) & (counts < inked.shape[0])
    for step, edge in ((1, right), (-1, left - 1)):
        x, gap, reach = edge, 0, edge - step
        while 0 <= x < pixels.shape[1] and gap <= height:
            if strokes[x]:
                reach, gap = x, 0
            else:
                gap += 1
            x += step
        if step == 1:
            line[2] = max(right, reach + 1)
        else:
            line[0] = min(left, reach)


def _line_beside(line: list[int], pixels: np.ndarray, ink: float, tolerance: float, step: int) -> list[int] | None:
    """Return a line of the same text's colour just above (``step`` -1) or below (1) `line`, if there is one.

    OCR loses whole lines of a block (a name over bright soft tissue); the lines it read say where to look.
    """
    left, top, right, bottom = line
    height = bottom - top
    start, stop = (
        (max(0, top - 2 * height), top - 1) if step < 0 else (bottom + 1, min(pixels.shape[0], bottom + 2 * height))
    )
    if stop - start < height / 2:
        return None
    inked = _inked(pixels, start, stop, ink, tolerance)[:, left:right]
    share = inked.mean(axis=0)
    columns = (share > 0) & (share < 0.8)  # strokes; not a bone of the text's brightness crossing the band
    if columns.mean() < 0.25:
        return None
    per_row = inked[:, columns].sum(axis=1)
    rows = np.flatnonzero(per_row >= max(2.0, 0.2 * per_row.max(initial=0)))
    runs = [run for run in np.split(rows, np.flatnonzero(np.diff(rows) > 2) + 1) if run.size]
    runs = [run for run in runs if height / 2 <= run[-1] - run[0] + 1 <= 1.5 * height]
    if not runs:
        return None
    best = max(runs, key=lambda run: per_row[run[0] : run[-1] + 1].sum())
    return [left, start + int(best[0]), right, start + int(best[-1]) + 1]


def _complete(lines: list[list[int]], pixels: np.ndarray) -> list[list[int]]:
    """Widen each line over its text's strokes and add the lines of the same block the OCR did not read."""
    pending, done = list(lines), []
    while pending and len(done) < 4 * len(lines) + 8:
        line = pending.pop()
        ink, tolerance = _ink(line, pixels)
        _extend_along_ink(line, pixels, ink, tolerance)
        done.append(line)
        for step in (-1, 1):
            beside = _line_beside(line, pixels, ink, tolerance, step)
            if beside is not None and not any(_overlap(beside, other) for other in done + pending):
                pending.append(beside)
    return done


def _overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _join(line: list[int], word: Word) -> bool:
    """Grow `line` by `word` when it lies on the line's row within two heights of it; say whether it did."""
    x, y, w, h = word.box
    height = line[3] - line[1]
    middle = y + h / 2
    if not line[1] <= middle <= line[3] or h > 2 * height or h < height / 2:
        return False
    if x > line[2] + 2 * height or x + w < line[0] - 2 * height:
        return False
    line[:] = [min(line[0], x), min(line[1], y), max(line[2], x + w), max(line[3], y + h)]
    return True


WordReader = Callable[[PIL.Image.Image], list[Word]]


def find_text(picture: PIL.Image.Image, *, read_words: WordReader | None = None, side: int = OCR_SIDE) -> TextFound:
    """Return the regions of text other than markers in a rendered picture (grey or colour).

    The picture is read at `side` pixels at most; the regions are in the picture's own pixels. Without an
    OCR engine the result is unchecked (`TextFound.held` is then true) and the missing engine is logged once.
    """
    reader = read_words or tesseract_reader()
    if reader is None:
        return TextFound(regions=[], checked=False)
    grey = picture.convert("L")
    scale = max(1.0, max(grey.size) / side)
    if scale > 1:
        size = (max(1, round(grey.width / scale)), max(1, round(grey.height / scale)))
        grey = grey.resize(size, PIL.Image.Resampling.BOX)
    try:
        words = reader(grey)
    except Exception as error:  # noqa: BLE001 - an OCR failure holds the image; the rest of the import goes on
        logger.warning("OCR failed (%s): the image is held unchecked", type(error).__name__)
        return TextFound(regions=[], checked=False)
    found = text_regions(words, pixels=np.asarray(grey), scale=picture.width / grey.width)
    return TextFound(regions=[_clip(region, picture.width, picture.height) for region in found], checked=True)


def _clip(region: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    x, y, w, h = region
    return x, y, min(w, width - x), min(h, height - y)


def tesseract_reader(methods: tuple[str, ...] = THRESHOLDING_METHODS) -> WordReader | None:
    """Return a word reader over this process's Tesseract, or None (logged once) when there is none."""
    api = _tesseract_api(os.getpid())
    if api is None:
        return None

    def read(picture: PIL.Image.Image) -> list[Word]:
        import tesserocr

        words = []
        level = tesserocr.RIL.WORD
        api.SetImage(picture)
        for method in methods:
            api.SetVariable("thresholding_method", method)
            api.Recognize()
            for result in tesserocr.iterate_level(api.GetIterator(), level):
                try:
                    text = result.GetUTF8Text(level)
                except RuntimeError:  # an empty result
                    continue
                box = result.BoundingBox(level)
                if text and box:
                    size = (box[0], box[1], box[2] - box[0], box[3] - box[1])
                    words.append(Word(size, text, result.Confidence(level)))
        return words

    return read


@lru_cache(maxsize=1)
def _tesseract_api(pid: int):
    """Start Tesseract once per process (``pid`` keeps a forked worker from using its parent's)."""
    try:
        import tesserocr

        return tesserocr.PyTessBaseAPI(
            path=os.environ.get("TESSDATA_PREFIX", DEBIAN_TESSDATA), lang="eng", psm=tesserocr.PSM.SPARSE_TEXT
        )
    except (ImportError, RuntimeError) as error:
        _log_missing(type(error).__name__)
        return None


@lru_cache(maxsize=1)
def _log_missing(reason: str) -> None:
    logger.warning(
        "No OCR engine (%s): radiographs are held for review unchecked. Install Debian's tesseract-ocr-eng.", reason
    )
