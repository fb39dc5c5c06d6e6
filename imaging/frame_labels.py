"""What a reader sees written on a frame: the orientation of a slice, the projection of a planar nuclear
medicine view, and how long after the injection it was acquired."""

import math
import re

from pydicom.dataset import Dataset

from .attributes import as_list, first_number, functional_item, text

__all__ = ["image_orientation", "nm_view", "seconds_after_injection"]

# PS3.16 CID 26 "Nuclear Medicine Projection" meanings, as the letters read on a planar image.
PROJECTIONS = (
    ("left anterior oblique", "LAO"),
    ("right anterior oblique", "RAO"),
    ("left posterior oblique", "LPO"),
    ("right posterior oblique", "RPO"),
    ("left lateral", "LLAT"),
    ("right lateral", "RLAT"),
    ("anterior", "ANT"),
    ("posterior", "POST"),
    ("vertex", "VERTEX"),
)
LATEST_SECONDS = 2 * 24 * 3600  # later than two days after the injection: not a bone scan's times
TIME = re.compile(r"(\d{2}):?(\d{2})?:?(\d{2})?(\.\d+)?")


def image_orientation(dataset: Dataset, *, frame_index: int = 0) -> list[float] | None:
    """Return a frame's row and column direction cosines (six numbers), or None without them.

    References
    ----------
    DICOM PS3.3 C.7.6.2.1.1 (Image Orientation (Patient)); C.7.6.16.2.4 (Plane Orientation macro of an
    enhanced object's functional groups).
    """
    value = dataset.get("ImageOrientationPatient")
    if value is None:
        item = functional_item(dataset, "PlaneOrientationSequence", frame_index)
        value = item.get("ImageOrientationPatient") if item is not None else None
    cosines = [first_number(number) for number in as_list(value)]
    if len(cosines) != 6 or any(number is None or not math.isfinite(number) for number in cosines):
        return None
    if math.hypot(*cosines[:3]) < 0.5 or math.hypot(*cosines[3:]) < 0.5:
        return None
    return [round(number, 6) for number in cosines]


def nm_view(dataset: Dataset, *, frame_index: int = 0) -> str:
    """Return the projection of a planar NM frame as its letters (ANT, POST, LAO…), or "" when not given.

    The frame's detector (Detector Vector) names its item of the Detector Information Sequence, whose View
    Code Sequence gives the projection.

    References
    ----------
    DICOM PS3.3 C.8.4.9 (NM Image Pixel: Frame Increment Pointer, Detector Vector), C.8.4.11 (NM Detector
    Module: View Code Sequence); PS3.16 CID 26.
    """
    detectors = dataset.get("DetectorInformationSequence") or []
    vector = as_list(dataset.get("DetectorVector"))
    try:
        detector = int(vector[frame_index]) if len(vector) > frame_index else 1
        codes = detectors[detector - 1].get("ViewCodeSequence") or []
        meaning = str(codes[0].get("CodeMeaning") or "").lower()
    except (IndexError, TypeError, ValueError):
        return ""
    return next((letters for words, letters in PROJECTIONS if words in meaning), "")


def seconds_after_injection(dataset: Dataset, *, frame_index: int = 0) -> float | None:
    """Return when a frame's acquisition started, in seconds after the radiopharmaceutical was given.

    The object's Acquisition Time less the Radiopharmaceutical Start Time, plus, for the frames of a dynamic
    acquisition, the frames before it (Actual Frame Duration or Frame Time each). Times only: an acquisition
    read as before its injection is taken to be on the next day. None when a time is missing or the result
    is not that of a scan after an injection (over two days).

    References
    ----------
    DICOM PS3.3 C.8.4.10 (NM Image: Actual Frame Duration), C.8.4.10.1 (Radiopharmaceutical Information
    Sequence: Radiopharmaceutical Start Time), C.7.6.5 (Cine: Frame Time).
    """
    drugs = dataset.get("RadiopharmaceuticalInformationSequence") or []
    injected = _seconds(str(drugs[0].get("RadiopharmaceuticalStartTime") or "")) if len(drugs) else None
    acquired = _seconds(text(dataset, "AcquisitionTime") or text(dataset, "SeriesTime"))
    if injected is None or acquired is None:
        return None
    seconds = (acquired - injected) % (24 * 3600)
    if frame_index and "DYNAMIC" in [str(value).upper() for value in as_list(dataset.get("ImageType"))]:
        frame_ms = first_number(dataset.get("ActualFrameDuration")) or first_number(dataset.get("FrameTime"))
        if frame_ms is None or frame_ms <= 0:
            return None
        seconds += frame_index * frame_ms / 1000
    return seconds if seconds <= LATEST_SECONDS else None


def _seconds(value: str) -> float | None:
    """Return a TM value (HHMMSS.FFFFFF, or the older HH:MM:SS) as seconds after midnight."""
    match = TIME.fullmatch(value.strip())
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    total = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0) + float(fraction or 0)
    return total if total < 24 * 3600 else None
