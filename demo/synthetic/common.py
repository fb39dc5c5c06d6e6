"""What every synthetic study shares: the planted identifiers, the patient, option checks, smoothing
and noise, and the burned-in label."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from demo import phantoms

FloatArray = npt.NDArray[np.float32]
Vec = tuple[float, float, float]
Box = tuple[Vec, Vec]

#: Every fake identifier planted in the headers; de-identification must remove each one.
PLANTED: dict[str, str] = {
    "PatientName": "PLANTED^FAKE^PATIENT",
    "PatientID": "PLANTEDMRN0042",
    "OtherPatientID": "PLANTEDOTHER77",
    "InstitutionName": "Planted General Hospital",
    "ReferringPhysicianName": "PLANTED^REFERRER",
    "OperatorsName": "PLANTED^OPERATOR",
    "AccessionNumber": "PLANTEDACC9",
    "StudyID": "PLANTEDSTUDY",
    "PrivateName": "PLANTED^PRIVATE^NAME",
    "BirthDate": "19790314",
    "StudyDate": "20240102",
    "UIDRoot": "1.2.826.0.1.3680043.10.1234.42",  # the last component is MRN-like
    "DeviceSerialNumber": "PLANTEDSN555",
    "StationName": "PLANTEDSTATION",
}

PRIVATE_GROUP = 0x0029
PRIVATE_CREATOR = "PLANTED CREATOR"
SEVERITIES = range(4)
MR_SEQUENCES = ("T1", "STIR")
SCAN_PHASES = ("flow", "blood_pool", "delayed")
MANUFACTURER = "SYNTHETIC"
SOFTWARE = "teachingfile-synthetic 1.0"


class SyntheticError(ValueError):
    """Signal an invalid option for a synthetic study."""


@dataclass(frozen=True)
class Patient:
    """Describe the made-up patient whose studies are generated."""

    age: str = "042Y"
    sex: str = "M"
    seed: int = 0
    study_date: str = PLANTED["StudyDate"]

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{3}[DWMY]", self.age):
            raise SyntheticError(f"age must look like '042Y', got {self.age!r}")
        if self.sex not in ("M", "F", "O"):
            raise SyntheticError(f"sex must be M, F or O, got {self.sex!r}")
        _check_int("seed", self.seed, range(2**63))
        try:
            datetime.strptime(self.study_date, "%Y%m%d")
        except (TypeError, ValueError) as exc:
            raise SyntheticError(f"study_date must be YYYYMMDD, got {self.study_date!r}") from exc


def _check_int(name: str, value: object, values: range) -> int:
    """Return value if it is an int within values, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) not in values:
        raise SyntheticError(f"{name} must be an integer from {values.start} to {values.stop - 1}, got {value!r}")
    return int(value)


def _check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return value if it is one of choices, else raise."""
    if not isinstance(value, str) or value not in choices:
        raise SyntheticError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


# --------------------------------------------------------------------------
# array helpers


def _kernel(sigma: float) -> npt.NDArray[np.float32]:
    """Return a normalised 1-D Gaussian kernel."""
    radius = max(1, math.ceil(3.0 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def _gauss(a: FloatArray, sigma: float) -> FloatArray:
    """Blur the first two axes of an array with a separable Gaussian."""
    if sigma <= 0:
        return a
    k = _kernel(sigma)
    r = len(k) // 2
    out = a.astype(np.float32)
    for axis in (0, 1):
        n = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect" if n > r else "edge")
        acc = np.zeros_like(out)
        for i, w in enumerate(k):
            index = [slice(None)] * out.ndim
            index[axis] = slice(i, i + n)
            acc += w * padded[tuple(index)]
        out = acc
    return out


def _band_noise(rng: np.random.Generator, shape: tuple[int, int], fine: float, coarse: float) -> FloatArray:
    """Return unit-variance band-pass noise, the texture of trabecular bone and bowel content."""
    a = _gauss(rng.standard_normal(shape, dtype=np.float32), fine)
    t = a - _gauss(a, coarse)
    return (t / (float(t.std()) + 1e-6)).astype(np.float32)


@lru_cache(maxsize=16)
def _label_mask(height: int, width: int, size: int) -> FloatArray:
    """Return a soft mask of the "SYNTHETIC" label in the bottom-right corner."""
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=size)
    _, _, right, bottom = draw.textbbox((0, 0), phantoms.LABEL, font=font)
    margin = max(2, size // 3)
    draw.text((width - right - margin, height - bottom - margin), phantoms.LABEL, fill=255, font=font)
    mask = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    mask.setflags(write=False)
    return mask


def _burn_label(a: FloatArray, value: float, size: int) -> FloatArray:
    """Burn the synthetic-data label into a 2-D image at the given value."""
    mask = _label_mask(a.shape[0], a.shape[1], size)
    return (a + (value - a) * mask).astype(np.float32)


# --------------------------------------------------------------------------
# solids as approximate signed distances (mm; negative inside)
