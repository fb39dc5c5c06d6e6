"""Synthetic DICOM studies of the pelvis, with planted fake identifiers, for the demo content.

No real patient image may be committed, so the demo imaging is generated here:
an axial CT series, coronal T1 and STIR MR series, an AP computed radiograph
and a triple-phase Tc-99m MDP bone scan, all of one made-up man with
heterotopic ossification (HO) around both hips.

The CT, MR and nuclear medicine images are cut from, or projected through, one
3-D model of the pelvis written as approximate signed distance functions in
patient coordinates (millimetres, DICOM LPS: x to the patient's left, y
posterior, z superior; z = 0 at the centres of the femoral heads).  Each
tissue is composited in order, so one model gives Hounsfield units, MR signal
or tracer uptake depending on the palette.  The radiograph reuses the 2-D
phantom of :mod:`demo.phantoms`.

Each function returns the datasets of one series or phase: one per slice for
CT and MR; one CR object; for the bone scan, "flow" is one dynamic NM object
of 30 anterior two-second frames, "blood_pool" one static anterior image and
"delayed" an anterior and posterior whole-body object plus an anterior pelvic
spot view.  Studies are fixed by the patient, the modality and the day: the
three bone-scan phases share a study, and ``day_offset`` puts a later study
that many days after the patient's study date.

The headers are realistic for each modality and carry every value of
:data:`PLANTED` — names, IDs, dates, a UID root with an MRN-like component,
free text that gives the diagnosis away, a private block and nested
sequences — so that tests can prove the de-identification pipeline removes
them all.  Every UID, date and time derives from the arguments, and the same
arguments give byte-identical files.  Each image carries a small burned-in
"SYNTHETIC" label, like every other demo image; it does not identify anyone,
so Burned In Annotation stays "NO".

References
----------
DICOM PS3.3 2024b: A.2 (CR Image IOD), A.3 (CT Image IOD), A.4 (MR Image
IOD), A.5 (NM Image IOD), C.7.6.2 (Image Plane), C.8.4.8-C.8.4.14 (NM
Multi-frame, Image, Isotope, Detector and Phase Modules).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    NuclearMedicineImageStorage,
)

from . import phantoms

__all__ = [
    "PLANTED",
    "Patient",
    "SyntheticError",
    "bone_scan",
    "ct_pelvis",
    "mr_pelvis",
    "pelvis_radiograph",
    "planted_study_files",
]

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

BIG = np.float32(1e4)


def _box(lo: Iterable[float], hi: Iterable[float]) -> Box:
    """Return a bounding box from its low and high corners."""
    a, b = tuple(lo), tuple(hi)
    return (a[0], a[1], a[2]), (b[0], b[1], b[2])


def _rotation(yaw: float = 0.0, tilt: float = 0.0) -> npt.NDArray[np.float64]:
    """Return a rotation whose columns are a solid's local axes: yaw about z, then tilt about x."""
    cy, sy = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    ct, st = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, ct, -st], [0.0, st, ct]])
    return rz @ rx


class _Shape:
    """A solid: an approximate signed distance function and a bounding box."""

    box: Box

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """Return the signed distance from the surface (negative inside)."""
        raise NotImplementedError


class _Ellipsoid(_Shape):
    """An ellipsoid, optionally rotated."""

    def __init__(self, centre: Vec, radii: Vec, yaw: float = 0.0, tilt: float = 0.0) -> None:
        self.c = centre
        self.r = radii
        self.rot = _rotation(yaw, tilt) if (yaw or tilt) else None
        rot = self.rot if self.rot is not None else np.eye(3)
        ext = [math.sqrt(sum((rot[j, i] * radii[i]) ** 2 for i in range(3))) for j in range(3)]
        self.box = _box(
            (c - e for c, e in zip(centre, ext, strict=True)), (c + e for c, e in zip(centre, ext, strict=True))
        )

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        d = (x - self.c[0], y - self.c[1], z - self.c[2])
        if self.rot is None:
            local = d
        else:
            rot = self.rot
            local = tuple(rot[0, i] * d[0] + rot[1, i] * d[1] + rot[2, i] * d[2] for i in range(3))
        k0 = np.sqrt(sum((li / ri) ** 2 for li, ri in zip(local, self.r, strict=True)))
        k1 = np.sqrt(sum((li / ri**2) ** 2 for li, ri in zip(local, self.r, strict=True)))
        # first-order distance (Quilez); exact for spheres, good near the surface
        return np.where(k1 > 1e-9, k0 * (k0 - 1.0) / np.maximum(k1, 1e-9), -min(self.r)).astype(np.float32)


class _Capsule(_Shape):
    """A segment swept by a sphere whose radius varies linearly along it."""

    def __init__(self, p0: Vec, p1: Vec, r0: float, r1: float | None = None) -> None:
        self.p0, self.p1 = p0, p1
        self.r0, self.r1 = r0, r0 if r1 is None else r1
        r = max(self.r0, self.r1)
        self.box = _box(
            (min(a, b) - r for a, b in zip(p0, p1, strict=True)), (max(a, b) + r for a, b in zip(p0, p1, strict=True))
        )

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        (a0, a1, a2), (b0, b1, b2) = self.p0, self.p1
        v0, v1, v2 = b0 - a0, b1 - a1, b2 - a2
        vv = max(v0 * v0 + v1 * v1 + v2 * v2, 1e-9)
        dx, dy, dz = x - a0, y - a1, z - a2
        t = np.clip((dx * v0 + dy * v1 + dz * v2) / vv, 0.0, 1.0)
        dist = np.sqrt((dx - t * v0) ** 2 + (dy - t * v1) ** 2 + (dz - t * v2) ** 2)
        return (dist - (self.r0 + t * (self.r1 - self.r0))).astype(np.float32)


def _chain(points: Sequence[Vec], radii: Sequence[float]) -> list[_Shape]:
    """Return capsules joining consecutive points, radii tapering from point to point."""
    return [_Capsule(points[i], points[i + 1], radii[i], radii[i + 1]) for i in range(len(points) - 1)]


class _Cylinder(_Shape):
    """An elliptic cylinder with flat ends, its axis along z (a vertebral body or disc)."""

    def __init__(self, centre: Vec, a: float, b: float, half_height: float) -> None:
        self.c, self.a, self.b, self.h = centre, a, b, half_height
        cx, cy, cz = centre
        self.box = ((cx - a, cy - b, cz - half_height), (cx + a, cy + b, cz + half_height))

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        px, py = (x - self.c[0]) / self.a, (y - self.c[1]) / self.b
        k0 = np.sqrt(px * px + py * py)
        k1 = np.sqrt((px / self.a) ** 2 + (py / self.b) ** 2)
        side = np.where(k1 > 1e-9, k0 * (k0 - 1.0) / np.maximum(k1, 1e-9), -min(self.a, self.b))
        return np.maximum(side, np.abs(z - self.c[2]) - self.h).astype(np.float32)


class _Cup(_Shape):
    """A hemispherical shell opening along -axis: the acetabulum."""

    def __init__(self, centre: Vec, inner: float, outer: float, axis: Vec, overhang: float) -> None:
        n = math.sqrt(sum(a * a for a in axis))
        self.c, self.inner, self.outer = centre, inner, outer
        self.u = tuple(a / n for a in axis)
        self.overhang = overhang
        self.box = _box((c - outer for c in centre), (c + outer for c in centre))

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        dx, dy, dz = x - self.c[0], y - self.c[1], z - self.c[2]
        r = np.sqrt(dx * dx + dy * dy + dz * dz)
        along = dx * self.u[0] + dy * self.u[1] + dz * self.u[2]
        return np.maximum(np.maximum(r - self.outer, self.inner - r), -(along + self.overhang)).astype(np.float32)


class _Table(_Shape):
    """The CT table: a curved carbon-fibre tray under the patient."""

    def __init__(self, top: float, half_width: float, thickness: float, curve: float) -> None:
        self.top, self.half, self.thick, self.curve = top, half_width, thickness, curve
        self.box = ((-half_width, top - curve * half_width**2, -1e4), (half_width, top + thickness, 1e4))

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        surface = self.top - self.curve * x * x
        d = np.maximum(surface - y, y - surface - self.thick)
        return np.maximum(d, np.abs(x) - self.half).astype(np.float32)


class _Inset(_Shape):
    """A solid shrunk (positive distance) or grown (negative) by a margin."""

    def __init__(self, base: _Shape, margin: float) -> None:
        self.base, self.margin = base, margin
        grow = max(0.0, -margin)
        lo, hi = base.box
        self.box = _box((v - grow for v in lo), (v + grow for v in hi))

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        return self.base.sdf(x, y, z) + np.float32(self.margin)


class _Anterior(_Shape):
    """The part of a solid in front of a coronal level: where gas rises in a supine patient."""

    def __init__(self, base: _Shape, level: float) -> None:
        self.base, self.level = base, level
        self.box = base.box

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        return np.maximum(self.base.sdf(x, y, z), y - self.level).astype(np.float32)


class _Carved(_Shape):
    """A solid with a sphere cut out of it: the articular surface of the acetabulum."""

    def __init__(self, base: _Shape, centre: Vec, radius: float) -> None:
        self.base, self.c, self.radius = base, centre, radius
        self.box = base.box

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        r = np.sqrt((x - self.c[0]) ** 2 + (y - self.c[1]) ** 2 + (z - self.c[2]) ** 2)
        return np.maximum(self.base.sdf(x, y, z), self.radius - r).astype(np.float32)


class _OnTable(_Shape):
    """A soft part of the body flattened where it rests on the table."""

    def __init__(self, base: _Shape, top: float, curve: float) -> None:
        self.base, self.top, self.curve = base, top, curve
        lo, hi = base.box
        self.box = (lo, (hi[0], min(hi[1], top), hi[2]))

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        return np.maximum(self.base.sdf(x, y, z), y - (self.top - self.curve * x * x)).astype(np.float32)


class _Lumpy(_Shape):
    """A solid with a smooth lobulated surface, as heterotopic bone has."""

    def __init__(self, base: _Shape, amplitude: float, waves: Sequence[tuple[float, float, float, float]]) -> None:
        self.base, self.amp, self.waves = base, amplitude / math.sqrt(len(waves)), waves
        lo, hi = base.box
        grow = amplitude * math.sqrt(len(waves))
        self.box = _box((v - grow for v in lo), (v + grow for v in hi))

    def sdf(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        d = self.base.sdf(x, y, z)
        for kx, ky, kz, phase in self.waves:
            d = d + self.amp * np.sin(kx * x + ky * y + kz * z + phase)
        return d.astype(np.float32)


# --------------------------------------------------------------------------
# scene: ordered tissue layers, sampled on planes


Inset = float | Callable[[FloatArray, FloatArray, FloatArray], FloatArray]


@dataclass(frozen=True)
class _Layer:
    """One tissue painted over what lies below it."""

    tissue: str
    shapes: tuple[_Shape, ...] = ()
    inset: Inset = 0.0
    body: bool = False  # paint the body silhouette instead of shapes
    within: float | None = None  # keep only this deep inside the body surface
    edge: float = 0.0  # width of a soft edge in mm; 0 for a sharp (one-pixel) edge
    box: Box | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Scene:
    """The body silhouette and the layers, in painting order."""

    body: tuple[_Shape, ...]
    layers: tuple[_Layer, ...]


def _bounds(shapes: Iterable[_Shape]) -> Box:
    """Return the box enclosing every shape."""
    boxes = [s.box for s in shapes]
    return _box((min(b[0][i] for b in boxes) for i in range(3)), (max(b[1][i] for b in boxes) for i in range(3)))


def _layer(
    tissue: str, shapes: Iterable[_Shape], inset: Inset = 0.0, within: float | None = None, edge: float = 0.0
) -> _Layer:
    """Return a layer of shapes with its bounding box worked out."""
    shapes = tuple(shapes)
    return _Layer(tissue, shapes, inset, within=within, edge=edge, box=_bounds(shapes))


Window = tuple[int, int, int, int]  # rows i0:i1, columns j0:j1


@dataclass(frozen=True)
class _Plane:
    """A grid of pixel centres on an axial (rows along +y) or coronal (rows along -z) plane."""

    shape: tuple[int, int]
    px: float
    x0: float  # x of column 0
    v0: float  # y (axial) or z (coronal) of row 0
    v_step: float
    v_axis: int  # 1: axial, rows run along y; 2: coronal, rows run along z
    fixed: float  # z of an axial plane, y of a coronal one

    def window(self, box: Box, pad: float) -> Window | None:
        """Return the rows and columns a box covers, or None when it misses the plane."""
        lo, hi = box
        f = 3 - self.v_axis
        if not lo[f] - pad <= self.fixed <= hi[f] + pad:
            return None
        h, w = self.shape
        j0 = max(math.floor((lo[0] - pad - self.x0) / self.px), 0)
        j1 = min(math.ceil((hi[0] + pad - self.x0) / self.px) + 1, w)
        a = (lo[self.v_axis] - pad - self.v0) / self.v_step
        b = (hi[self.v_axis] + pad - self.v0) / self.v_step
        i0 = max(math.floor(min(a, b)), 0)
        i1 = min(math.ceil(max(a, b)) + 1, h)
        if j0 >= j1 or i0 >= i1:
            return None
        return i0, i1, j0, j1

    def coords(self, win: Window) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return broadcastable x, y and z of the pixel centres in a window."""
        i0, i1, j0, j1 = win
        x = (self.x0 + self.px * np.arange(j0, j1, dtype=np.float32))[None, :]
        v = (self.v0 + self.v_step * np.arange(i0, i1, dtype=np.float32))[:, None]
        f = np.full((1, 1), self.fixed, dtype=np.float32)
        return (x, v, f) if self.v_axis == 1 else (x, f, v)


def _axial(z: float, n: int, px: float, centre: tuple[float, float]) -> _Plane:
    """Return an axial plane of n × n pixels centred on (x, y)."""
    half = (n - 1) / 2 * px
    return _Plane((n, n), px, centre[0] - half, centre[1] - half, px, 1, z)


def _coronal(y: float, shape: tuple[int, int], px: float, centre: tuple[float, float]) -> _Plane:
    """Return a coronal plane of rows × columns pixels centred on (x, z), seen from the front."""
    rows, cols = shape
    return _Plane(shape, px, centre[0] - (cols - 1) / 2 * px, centre[1] + (rows - 1) / 2 * px, -px, 2, y)


def _union(shapes: Iterable[_Shape], plane: _Plane, win: Window, pad: float) -> FloatArray:
    """Return the signed distance to the union of shapes over a window."""
    i0, i1, j0, j1 = win
    out = np.full((i1 - i0, j1 - j0), BIG, dtype=np.float32)
    for shape in shapes:
        sub = plane.window(shape.box, pad)
        if sub is None:
            continue
        a0, a1, b0, b1 = max(sub[0], i0), min(sub[1], i1), max(sub[2], j0), min(sub[3], j1)
        if a0 >= a1 or b0 >= b1:
            continue
        view = out[a0 - i0 : a1 - i0, b0 - j0 : b1 - j0]
        np.minimum(view, shape.sdf(*plane.coords((a0, a1, b0, b1))), out=view)
    return out


Palette = dict[str, npt.NDArray[np.float32]]


def _render(
    scene: _Scene,
    plane: _Plane,
    palette: Palette,
    texture: FloatArray | None = None,
    texture_amp: dict[str, float] | None = None,
) -> FloatArray:
    """Paint the scene's layers on a plane and return a rows × columns × channels image."""
    h, w = plane.shape
    px = plane.px
    img = np.empty((h, w, len(palette["air"])), dtype=np.float32)
    img[...] = palette["air"]
    full = (0, h, 0, w)
    body = _union(scene.body, plane, full, px)
    amps = texture_amp or {}
    for layer in scene.layers:
        if layer.body:
            win: Window | None = full
            sdf = body
        else:
            # approximate distances shrink away from a surface: pad grown layers generously
            grow = 1.5 * max(0.0, -layer.inset) if isinstance(layer.inset, float | int) else 0.0
            pad = px + grow + layer.edge
            assert layer.box is not None
            win = plane.window(layer.box, pad)
            if win is None:
                continue
            sdf = _union(layer.shapes, plane, win, pad)
        i0, i1, j0, j1 = win
        inset = layer.inset(*plane.coords(win)) if callable(layer.inset) else layer.inset
        m = np.clip(0.5 - (sdf + inset) / max(px, layer.edge), 0.0, 1.0)
        if layer.within is not None:
            m = m * np.clip(0.5 - (body[i0:i1, j0:j1] + layer.within) / px, 0.0, 1.0)
        if not m.any():
            continue
        region = img[i0:i1, j0:j1]
        value = palette[layer.tissue]
        amp = amps.get(layer.tissue)
        if texture is not None and amp:
            value = value + amp * texture[i0:i1, j0:j1, None]
        region += (value - region) * m[..., None]
    return img


# --------------------------------------------------------------------------
# the pelvis model

HEAD_CENTRE_X = 95.0
HEAD_RADIUS = 24.0
SIDES = (-1, 1)


def _fat_thickness(x: FloatArray, y: FloatArray, z: FloatArray, extra: float) -> FloatArray:
    """Return the subcutaneous fat depth: thicker over the lower belly, the flanks and the buttocks."""
    front = np.clip(-y / 100.0, 0, 1)
    back = np.clip((y - 20.0) / 80.0, 0, 1)
    flank = np.clip((np.abs(x) - 110.0) / 50.0, 0, 1) * np.clip((z + 40.0) / 80.0, 0, 1)
    return (12.0 + extra + 14.0 * front + 12.0 * back + 8.0 * flank).astype(np.float32)


def _sheet(centre: Vec, length: float, height: float, yaw: float, thickness: float = 1.6) -> _Shape:
    """Return a thin vertical sheet, such as an intermuscular fat plane or a fascia."""
    return _Ellipsoid(centre, (length, thickness, height), yaw=yaw)


def _bowel(rng: np.random.Generator) -> tuple[list[_Shape], list[_Shape], list[_Shape]]:
    """Return small-bowel and colon walls, contents and gas pockets (gas rises anteriorly)."""
    walls: list[_Shape] = []
    gas: list[_Shape] = []
    loops: list[_Shape] = []
    for k in range(20):
        if k < 14:  # abdomen and false pelvis
            c = (float(rng.uniform(-75, 75)), float(rng.uniform(-55, 5)), float(rng.uniform(65, 300)))
            r = (float(rng.uniform(14, 22)), float(rng.uniform(12, 17)), float(rng.uniform(20, 34)))
        else:  # ileal loops above the bladder dome, in the true pelvis
            c = (float(rng.uniform(-40, 40)), float(rng.uniform(-30, 25)), float(rng.uniform(42, 80)))
            r = (float(rng.uniform(12, 17)), float(rng.uniform(10, 14)), float(rng.uniform(14, 22)))
        loops.append(_Ellipsoid(c, r, yaw=float(rng.uniform(0, 180)), tilt=float(rng.uniform(-60, 60))))
    colon = [
        *_chain([(0, 58, -50), (0, 62, 5), (10, 45, 45), (-20, 22, 80), (25, 12, 100)], [15, 15, 16, 16, 15]),
        *_chain([(25, 12, 100), (80, 28, 140), (86, 32, 300)], [15, 17, 18]),
        *_chain([(-78, -5, 135), (-85, 8, 300)], [25, 22]),
    ]
    for tube in loops + colon:
        walls.append(tube)
        lo, hi = tube.box
        if rng.uniform() < 0.55:
            depth = hi[1] - lo[1]
            gas.append(_Anterior(_Inset(tube, 2.5), lo[1] + depth * float(rng.uniform(0.2, 0.45))))
    contents = [_Inset(t, 2.5) for t in walls]
    return walls, contents, gas


def _ho_shapes(seed: int, severity: int) -> list[_Shape]:
    """Return the heterotopic new bone around both hips: lobulated masses that grow with severity."""
    if severity == 0:
        return []
    rng = np.random.default_rng([seed, 7, severity])
    # sites beside each hip: abductors, in front of the neck, behind the trochanter, below the neck
    sites = [((140, 2, 24), 1.0), ((118, -38, -10), 0.9), ((165, 36, -14), 0.85), ((122, 42, -44), 0.8)]
    count = {1: 2, 2: 3, 3: 4}[severity]
    radius = {1: 7.0, 2: 14.0, 3: 21.0}[severity]
    shapes: list[_Shape] = []
    for s in SIDES:
        parts: list[_Shape] = []
        for (u, y, z), f in sites[:count]:
            r = radius * f * float(rng.uniform(0.85, 1.15))
            c = (s * (u + float(rng.normal(0, 3))), y + float(rng.normal(0, 3)), z + float(rng.normal(0, 3)))
            radii = (
                r * float(rng.uniform(0.8, 1.1)),
                r * float(rng.uniform(0.6, 0.9)),
                r * float(rng.uniform(1.0, 1.5)),
            )
            yaw, tilt = float(rng.uniform(0, 180)), float(rng.uniform(-30, 30))
            parts.append(_Ellipsoid(c, radii, yaw, tilt))
            for _ in range(2):
                d = rng.normal(0, 1, 3)
                d = d / np.linalg.norm(d) * r * 0.8
                sat = (c[0] + float(d[0]), c[1] + float(d[1]), c[2] + float(d[2]))
                parts.append(_Ellipsoid(sat, (r * 0.55, r * 0.45, r * 0.6), float(rng.uniform(0, 180))))
        if severity == 3:  # a bar of new bone from the acetabular rim to the trochanter (Brooker 3-4)
            parts.append(_Capsule((s * 128, -2, 26), (s * 150, 10, -18), 12.0, 14.0))
        for part in parts:
            waves = []
            for _ in range(3):
                k = rng.normal(0, 1, 3)
                k = k / np.linalg.norm(k) * (2 * math.pi / float(rng.uniform(14, 26)))
                waves.append((float(k[0]), float(k[1]), float(k[2]), float(rng.uniform(0, 2 * math.pi))))
            shapes.append(_Lumpy(part, min(3.0, 0.15 * radius), waves))
    return shapes


def _vertebra(zc: float, big_transverse: bool) -> list[_Shape]:
    """Return a lumbar vertebra: body, pedicles, laminae, spinous and transverse processes."""
    shapes: list[_Shape] = [_Cylinder((0, 32, zc), 26, 19, 12.5)]
    for s in SIDES:
        shapes += [
            _Capsule((s * 14, 46, zc), (s * 14, 60, zc), 5.0),
            _Capsule((s * 14, 60, zc - 2), (0, 72, zc - 5), 4.5),
            _Capsule(
                (s * 14, 54, zc), (s * (48 if big_transverse else 38), 52, zc + 2), 7.0 if big_transverse else 5.0
            ),
        ]
    shapes.append(_Capsule((0, 72, zc - 5), (0, 96, zc - 12), 5.0, 4.0))
    return shapes


def _innominate(s: int) -> list[_Shape]:
    """Return one hip bone: ilium, acetabulum, pubis and ischium (s = 1 for the left, -1 for the right)."""
    head = (s * HEAD_CENTRE_X, 0.0, 0.0)
    wing_yaw = math.degrees(math.atan2(-90, s * 60))
    wing = _Ellipsoid((s * 110, 12, 86), (58, 6.5, 36), yaw=wing_yaw, tilt=-25.0 * s)  # flares laterally upwards
    rot = _rotation(wing_yaw, -25.0 * s)
    crest = []
    for t in (-0.9, -0.45, 0.15, 0.7, 0.95):
        p = np.array(wing.c) + 58 * t * rot[:, 0] + 36 * math.sqrt(1 - t * t) * rot[:, 2]
        crest.append((float(p[0]), float(p[1]), float(p[2])))
    parts: list[_Shape] = [
        wing,
        _Ellipsoid((s * 80, 56, 86), (32, 11, 38), yaw=wing_yaw, tilt=-10.0 * s),  # posterior ilium, SI joint
        *_chain(crest, [5.5, 7.0, 7.0, 6.0, 5.5]),  # iliac crest
        _Ellipsoid((s * 136, -32, 76), (26, 7, 22), yaw=math.degrees(math.atan2(-1.0, s * 0.35)), tilt=-20.0 * s),
        _Ellipsoid((s * 90, 8, 46), (23, 42, 32), yaw=s * -12.0),  # supra-acetabular ilium
        _Capsule((s * 80, 55, 72), (s * 84, 34, 32), 14.0, 13.0),  # sciatic buttress
        _Cup(head, 26.5, 32.0, (-s * 1.0, 0.3, 0.9), 3.0),  # acetabular roof
        _Ellipsoid((s * 80, 4, 2), (22, 44, 34)),  # acetabular columns and medial wall, cut by the joint
        _Capsule((s * 80, -30, 40), (s * 78, -32, -8), 10.0),  # anterior column
        _Capsule((s * 80, 38, 34), (s * 74, 36, -15), 12.0, 13.0),  # posterior column
        _Capsule((s * 78, -32, -8), (s * 20, -66, -20), 10.0, 9.0),  # superior pubic ramus
        _Ellipsoid((s * 11, -68, -26), (9, 13, 20)),  # pubic body at the symphysis
        _Capsule((s * 14, -62, -42), (s * 48, 28, -62), 8.0, 9.0),  # ischiopubic ramus
        _Capsule((s * 74, 36, -15), (s * 62, 46, -57), 14.0, 20.0),  # ischium and tuberosity
    ]
    return [_Carved(part, head, 26.5) for part in parts]


@lru_cache(maxsize=8)
def _scene(seed: int, severity: int) -> _Scene:
    """Build the 3-D pelvis of the patient with this seed, with HO of this severity."""
    g = np.random.default_rng([seed, 101])
    wide = float(g.uniform(0.97, 1.05))
    fat_extra = float(g.uniform(-2.0, 5.0))
    table_top, table_curve = 128.0, 0.0002

    def resting(shape: _Shape) -> _Shape:
        return _OnTable(shape, table_top - 1.0, table_curve)

    body: list[_Shape] = [
        resting(_Ellipsoid((0, 4, 260), (150 * wide, 112, 230))),
        resting(_Ellipsoid((0, 14, 40), (180 * wide, 124, 170))),
    ]
    for s in SIDES:
        body.append(resting(_Ellipsoid((s * 62, 52, -5), (92, 80, 100))))
        body.append(resting(_Capsule((s * 95 * wide, 10, -20), (s * 88, 4, -480), 86 * wide, 60)))

    layers: list[_Layer] = [
        _layer("table_skin", [_Table(table_top, 235.0, 16.0, table_curve)]),
        _layer("table_core", [_Table(table_top + 1.5, 232.0, 13.0, table_curve)]),
        _Layer("fat", body=True),
        _Layer("muscle", body=True, inset=lambda x, y, z: _fat_thickness(x, y, z, fat_extra)),
    ]

    planes: list[_Shape] = []
    for s in SIDES:
        planes += [
            _sheet((s * 110, 76, 30), 58, 70, math.degrees(math.atan2(-40, s * 100))),  # gluteus maximus / medius
            _sheet((s * 118, 82, 95), 50, 35, math.degrees(math.atan2(-30, s * 100))),
            _sheet((s * 128, -58, -20), 38, 60, math.degrees(math.atan2(-20, s * 40))),  # tensor fasciae latae
            _sheet((s * 96, -62, -40), 30, 50, s * 70.0),  # sartorius / iliopsoas
            _sheet((s * 62, 12, -90), 40, 60, s * 60.0),  # adductors
            _sheet((s * 40, -20, -100), 35, 50, s * 30.0),
            _sheet((s * 102, 55, -100), 40, 60, s * -15.0),  # hamstrings
            _sheet((s * 150, 28, 80), 45, 40, s * 65.0),  # gluteus medius / minimus
            _sheet((s * 35, 70, 160), 40, 60, s * 80.0),  # erector spinae / quadratus lumborum
        ]
    layers.append(_layer("fat", planes, within=10.0))

    layers.append(_layer("fat", [_Ellipsoid((0, 20, 30), (66, 60, 75)), _Ellipsoid((0, -15, 190), (118, 75, 120))]))
    muscles: list[_Shape] = []
    for s in SIDES:
        muscles += _chain(
            [(s * 38, 35, 300), (s * 55, 20, 110), (s * 72, -28, 10), (s * 84, -22, -40)], [18, 22, 19, 14]
        )
        muscles.append(_Ellipsoid((s * 92, 4, 84), (18, 36, 40), yaw=s * -60.0))  # iliacus
        muscles.append(_Ellipsoid((s * 54, 26, -8), (11, 30, 40), yaw=s * 10.0))  # obturator internus
        muscles.append(_Ellipsoid((s * 22, 55, -40), (10, 22, 22), yaw=s * 40.0))  # levator ani
    layers.append(_layer("muscle", muscles))

    bladder = _Ellipsoid((0, -38, -8), (44, 33, 32))
    layers += [_layer("bladder_wall", [bladder]), _layer("urine", [_Inset(bladder, 3.0)])]
    walls, contents, gas = _bowel(np.random.default_rng([seed, 102]))
    layers += [_layer("bowel_wall", walls), _layer("bowel", contents), _layer("gas", gas)]

    arteries = [*_chain([(12, 5, 330), (8, 12, 245)], [10, 9])]
    veins = [*_chain([(-22, 15, 330), (-10, 25, 235)], [12, 11])]
    for s in SIDES:
        arteries += _chain(
            [(8, 12, 245), (s * 45, 20, 160), (s * 68, -20, 60), (s * 78, -45, 5), (s * 86, -50, -60)],
            [6.5, 6, 5, 5, 4.5],
        )
        arteries += _chain([(s * 86, -50, -60), (s * 80, -30, -250), (s * 70, 10, -450)], [4.5, 4, 3.5])
        arteries += _chain([(s * 45, 20, 160), (s * 55, 45, 90)], [4, 3])
        veins += _chain(
            [(-10, 25, 235), (s * 50, 30, 150), (s * 62, -12, 60), (s * 70, -38, 5), (s * 75, -44, -60)],
            [8, 7.5, 7, 6.5, 6],
        )
        veins += _chain([(s * 75, -44, -60), (s * 72, -24, -250), (s * 66, 14, -450)], [6, 5.5, 5])
    sheaths = [_Inset(v, -4.0) for v in arteries + veins]  # the vessels run in fat
    layers += [_layer("fat", sheaths), _layer("artery", arteries), _layer("vein", veins)]

    ho = _ho_shapes(seed, severity)
    if severity >= 2:
        reach = 8.0 + 6.0 * severity  # oedema fades from the surface of the new bone out to this distance
        layers.append(_layer("oedema", ho, inset=-reach / 2, within=6.0, edge=reach))
    if ho:
        layers += [_layer("ho_rim", ho), _layer("ho_core", ho, inset=3.0)]

    # spine and sacrum
    layers.append(_layer("csf", [_Capsule((0, 60, 300), (0, 61, 118), 9.0, 8.0)]))
    discs = [_Cylinder((0, 32, zc), 25, 18, hh) for zc, hh in ((119, 3), (152.5, 4.5), (187.5, 4.5), (222.5, 4.5))]
    discs.append(_Cylinder((0, 32, 257.5), 25, 18, 4.5))
    layers.append(_layer("disc", discs))
    vertebrae: list[_Shape] = []
    for zc in (135.0, 170.0, 205.0, 240.0, 275.0):
        vertebrae += _vertebra(zc, big_transverse=zc == 135.0)
    layers += [_layer("cortex", vertebrae), _layer("trabecular", vertebrae, inset=1.3)]
    sacrum: list[_Shape] = [
        _Ellipsoid((0, 42, 100), (58, 24, 17), tilt=28.0),
        _Ellipsoid((0, 55, 78), (48, 20, 15), tilt=28.0),
        _Ellipsoid((0, 66, 58), (36, 16, 13), tilt=28.0),
        _Ellipsoid((0, 75, 40), (26, 12, 11), tilt=28.0),
        _Ellipsoid((0, 82, 24), (17, 9, 10), tilt=28.0),
        _Capsule((0, 86, 13), (0, 80, -8), 6.0, 3.0),
    ]
    layers += [_layer("cortex", sacrum), _layer("trabecular", sacrum, inset=1.6)]
    layers.append(_layer("canal", _chain([(0, 60, 112), (0, 74, 62), (0, 86, 28)], [8, 5, 3])))

    # hip bones, hip joints, femora
    pelvis = _innominate(-1) + _innominate(1)
    layers += [_layer("cortex", pelvis), _layer("trabecular", pelvis, inset=1.8)]
    layers.append(_layer("cartilage", [_Ellipsoid((s * HEAD_CENTRE_X, 0, 0), (26.5,) * 3) for s in SIDES]))
    for s in SIDES:
        femur: list[_Shape] = [
            _Ellipsoid((s * HEAD_CENTRE_X, 0, 0), (HEAD_RADIUS,) * 3),
            _Capsule((s * 100, 2, -4), (s * 135, 10, -30), 15.0, 16.0),
            _Ellipsoid((s * 150, 14, -22), (19, 25, 28)),  # greater trochanter
            _Capsule((s * 142, 12, -28), (s * 130, 14, -52), 23.0, 17.0),  # intertrochanteric
            _Ellipsoid((s * 116, 26, -58), (10, 9, 12)),  # lesser trochanter
            _Capsule((s * 133, 10, -50), (s * 105, 3, -470), 15.5, 13.5),  # shaft
        ]
        canal = _Capsule((s * 131, 9.5, -66), (s * 106, 3, -455), 8.5, 7.0)  # below the lesser trochanter
        # the diaphysis is cortical bone round the fatty marrow of its canal
        layers += [_layer("cortex", femur), _layer("trabecular", femur[:-1], inset=1.6), _layer("marrow", [canal])]

    return _Scene(tuple(body), tuple(layers))


# Hounsfield units; texture amplitudes multiply band-pass noise
CT_HU = {
    "air": -1000.0, "table_skin": 250.0, "table_core": -650.0, "fat": -100.0, "muscle": 45.0, "bowel_wall": 40.0,
    "bowel": 18.0, "gas": -990.0, "urine": 8.0, "bladder_wall": 38.0, "artery": 42.0, "vein": 38.0,
    "oedema": 25.0, "ho_rim": 900.0, "ho_core": 250.0, "cortex": 1250.0, "trabecular": 240.0, "marrow": -40.0,
    "cartilage": 75.0, "disc": 85.0, "canal": -70.0, "csf": 12.0,
}  # fmt: skip
CT_TEXTURE = {"trabecular": 95.0, "ho_core": 80.0, "cortex": 60.0, "marrow": 25.0, "bowel": 30.0, "muscle": 4.0}
MR_SIGNAL = {
    "T1": {
        "air": 0.0, "table_skin": 0.0, "table_core": 0.0, "fat": 900.0, "muscle": 380.0, "bowel_wall": 420.0,
        "bowel": 330.0, "gas": 5.0, "urine": 130.0, "bladder_wall": 380.0, "artery": 25.0, "vein": 60.0,
        "oedema": 330.0, "ho_rim": 40.0, "ho_core": 800.0, "cortex": 35.0, "trabecular": 640.0, "marrow": 850.0,
        "cartilage": 430.0, "disc": 360.0, "canal": 800.0, "csf": 140.0,
    },
    "STIR": {
        "air": 0.0, "table_skin": 0.0, "table_core": 0.0, "fat": 70.0, "muscle": 230.0, "bowel_wall": 300.0,
        "bowel": 500.0, "gas": 5.0, "urine": 1050.0, "bladder_wall": 260.0, "artery": 20.0, "vein": 120.0,
        "oedema": 820.0, "ho_rim": 30.0, "ho_core": 220.0, "cortex": 25.0, "trabecular": 180.0, "marrow": 90.0,
        "cartilage": 380.0, "disc": 600.0, "canal": 90.0, "csf": 1000.0,
    },
}  # fmt: skip
MR_TEXTURE = {
    "T1": {"fat": 15.0, "muscle": 12.0, "bowel": 40.0, "trabecular": 60.0, "ho_core": 60.0, "marrow": 30.0},
    "STIR": {"fat": 6.0, "muscle": 10.0, "bowel": 60.0, "trabecular": 30.0, "ho_core": 40.0, "oedema": 60.0},
}
# nuclear medicine compartments, each tissue mapped to one of them
NM_CLASSES = ("soft", "bone", "ho", "halo", "artery", "vein", "urine")
NM_TISSUE = {
    "air": None, "table_skin": None, "table_core": None, "gas": None, "fat": "soft", "muscle": "soft",
    "bowel_wall": "soft", "bowel": "soft", "urine": "urine", "bladder_wall": "soft", "artery": "artery",
    "vein": "vein", "oedema": "halo", "ho_rim": "ho", "ho_core": "ho", "cortex": "bone", "trabecular": "bone",
    "marrow": "soft", "cartilage": "soft", "disc": "soft", "canal": "soft", "csf": "soft",
}  # fmt: skip


def _palette(values: dict[str, float]) -> Palette:
    """Return a one-channel palette."""
    return {k: np.array([v], dtype=np.float32) for k, v in values.items()}


def _nm_palette() -> Palette:
    """Return the palette that sorts tissues into nuclear medicine compartments."""
    out: Palette = {}
    for tissue, compartment in NM_TISSUE.items():
        v = np.zeros(len(NM_CLASSES), dtype=np.float32)
        if compartment is not None:
            v[NM_CLASSES.index(compartment)] = 1.0
        out[tissue] = v
    return out


# --------------------------------------------------------------------------
# DICOM headers


def _uid(kind: int, *parts: object) -> str:
    """Return a UID under the planted root, fixed by its parts."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"{PLANTED['UIDRoot']}.{kind}.{int(digest[:15], 16)}"


def _day(patient: Patient, offset: int) -> str:
    """Return the study date, offset by whole days, as DA."""
    return (datetime.strptime(patient.study_date, "%Y%m%d").date() + timedelta(days=offset)).strftime("%Y%m%d")


def _clock(seconds: float) -> str:
    """Return seconds after midnight as TM with microseconds."""
    whole = int(seconds)
    micro = round((seconds - whole) * 1e6)
    return f"{whole // 3600 % 24:02d}{whole // 60 % 60:02d}{whole % 60:02d}.{micro:06d}"


def _start(patient: Patient, kind: int, offset: int, span_hours: int = 8) -> float:
    """Return a plausible start time (seconds after midnight) for a study, from 08:00 on."""
    minutes = np.random.default_rng([patient.seed, kind, offset]).integers(0, span_hours * 60)
    return 8 * 3600.0 + 60.0 * float(minutes)


@dataclass(frozen=True)
class _Study:
    """The shared identity of one study."""

    uid: str
    date: str
    time: str
    description: str
    history: str


@dataclass(frozen=True)
class _Series:
    """The shared identity of one series."""

    uid: str
    number: int
    description: str
    protocol: str
    time: str
    frame_of_reference: str | None = None


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    """Return a code sequence item."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _header(
    patient: Patient,
    study: _Study,
    series: _Series,
    *,
    sop_class: str,
    modality: str,
    instance: int,
    acquired: str,
    image_type: list[str],
    model: str,
) -> Dataset:
    """Return a dataset with the patient, study, series, equipment and request attributes filled in."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = image_type
    ds.InstanceCreationDate = study.date
    ds.InstanceCreationTime = acquired
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = _uid(3, series.uid, instance)
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study.date
    ds.StudyTime = study.time
    ds.SeriesTime = series.time
    ds.AcquisitionTime = ds.ContentTime = acquired
    ds.AccessionNumber = PLANTED["AccessionNumber"]
    ds.Modality = modality
    ds.Manufacturer = MANUFACTURER
    ds.InstitutionName = PLANTED["InstitutionName"]
    ds.ReferringPhysicianName = PLANTED["ReferringPhysicianName"]
    ds.StationName = PLANTED["StationName"]
    ds.StudyDescription = study.description
    ds.SeriesDescription = series.description
    ds.InstitutionalDepartmentName = "RADIOLOGY"
    ds.OperatorsName = PLANTED["OperatorsName"]
    ds.ManufacturerModelName = model
    ds.PatientName = PLANTED["PatientName"]
    ds.PatientID = PLANTED["PatientID"]
    ds.PatientBirthDate = PLANTED["BirthDate"]
    ds.PatientSex = patient.sex
    other = Dataset()
    other.PatientID = PLANTED["OtherPatientID"]
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = DicomSequence([other])
    ds.PatientAge = patient.age
    ds.PatientSize = "1.78"
    ds.PatientWeight = "78"
    ds.AdditionalPatientHistory = study.history
    ds.BodyPartExamined = "PELVIS"
    ds.DeviceSerialNumber = PLANTED["DeviceSerialNumber"]
    ds.SoftwareVersions = SOFTWARE
    ds.ProtocolName = series.protocol
    ds.StudyInstanceUID = study.uid
    ds.SeriesInstanceUID = series.uid
    ds.StudyID = PLANTED["StudyID"]
    ds.SeriesNumber = series.number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance
    if series.frame_of_reference:
        ds.FrameOfReferenceUID = series.frame_of_reference
        ds.PositionReferenceIndicator = ""
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PerformedProcedureStepStartDate = study.date
    ds.PerformedProcedureStepStartTime = study.time
    ds.PerformedProcedureStepID = f"PPS{int(hashlib.sha256(study.uid.encode()).hexdigest()[:6], 16)}"
    ds.PerformedProcedureStepDescription = study.description

    issuer = Dataset()
    issuer.LocalNamespaceEntityID = PLANTED["InstitutionName"]
    request = Dataset()
    request.AccessionNumber = PLANTED["AccessionNumber"]
    request.IssuerOfAccessionNumberSequence = DicomSequence([issuer])
    request.RequestingPhysician = PLANTED["ReferringPhysicianName"]
    request.RequestedProcedureID = f"RP{ds.PerformedProcedureStepID[3:]}"
    request.RequestedProcedureDescription = study.description
    request.ScheduledProcedureStepID = f"SPS{ds.PerformedProcedureStepID[3:]}"
    request.ScheduledProcedureStepDescription = study.description
    ds.RequestAttributesSequence = DicomSequence([request])

    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", PLANTED["PrivateName"])

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def _pixels(ds: Dataset, frames: npt.NDArray[np.uint16], bits_stored: int, photometric: str = "MONOCHROME2") -> None:
    """Attach unsigned 16-bit pixels (rows × columns, or frames × rows × columns) to a dataset."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = int(frames.shape[-2]), int(frames.shape[-1])
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(frames, dtype="<u2").tobytes()


def _ds_number(value: float, places: int = 4) -> str:
    """Format a decimal string (DS) value within 16 characters."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --------------------------------------------------------------------------
# CT

CT_FOV = 400.0
CT_CENTRE = (0.0, 5.0)
CT_TOP, CT_BOTTOM = 116.0, -73.0  # iliac crests to the proximal femoral shafts
TABLE_Z = -350.0  # patient z of the femoral head centres on the scanner


def ct_pelvis(
    *, patient: Patient, slices: int = 64, severity: int = 3, size: int = 512, seed: int = 0
) -> list[Dataset]:
    """Return an axial CT of the pelvis, one dataset per slice from the iliac crests down."""
    slices = _check_int("slices", slices, range(2, 1025))
    severity = _check_int("severity", severity, SEVERITIES)
    size = _check_int("size", size, range(64, 1025))
    seed = _check_int("seed", seed, range(2**63))
    scene = _scene(patient.seed, severity)
    px = CT_FOV / size
    spacing = (CT_TOP - CT_BOTTOM) / (slices - 1)
    rng = np.random.default_rng([seed, patient.seed, 11])
    texture = _band_noise(rng, (2 * size, 2 * size), max(0.6, 0.85 / px), max(2.0, 3.5 / px))
    palette = _palette(CT_HU)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    half = (size - 1) / 2
    fov = np.hypot(xx - half, yy - half) <= size / 2
    label_size = max(7, round(11 * size / 512))

    start = _start(patient, 1, 0)
    date = _day(patient, 0)
    study = _Study(
        _uid(1, patient.seed, "CT", date),
        date,
        _clock(start),
        "CT PELVIS WO CONTRAST",
        "Bilateral hip pain 8 months after road traffic accident. ?Heterotopic ossification",
    )
    series = _Series(
        _uid(2, study.uid, 2, seed),
        2,
        "CT PELVIS BONE R/O HO",
        "PELVIS BONE 3MM",
        _clock(start + 120),
        _uid(4, study.uid, "CT", seed),
    )
    event = _uid(5, series.uid)
    out = []
    for k in range(slices):
        z = CT_TOP - k * spacing
        plane = _axial(z, size, px, CT_CENTRE)
        ox, oy = (int(v) for v in rng.integers(0, size, 2))
        hu = _render(scene, plane, palette, texture[oy : oy + size, ox : ox + size], CT_TEXTURE)[..., 0]
        hu = _gauss(hu, max(0.4, 0.45 / px))
        noise = _gauss(
            np.random.default_rng([seed, patient.seed, 12, k]).standard_normal((size, size), np.float32), 0.7
        )
        hu = np.where(fov, hu + 30.0 * noise, -1024.0).astype(np.float32)
        hu = _burn_label(hu, 1000.0, label_size)
        stored = np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.uint16)

        acquired = _clock(start + 125 + k * spacing / 40.0)
        ds = _header(
            patient,
            study,
            series,
            sop_class=CTImageStorage,
            modality="CT",
            instance=k + 1,
            acquired=acquired,
            image_type=["ORIGINAL", "PRIMARY", "AXIAL"],
            model="Synthetic CT 64",
        )
        ds.PatientPosition = "FFS"
        ds.ScanOptions = "HELICAL MODE"
        ds.SliceThickness = "3"
        ds.SpacingBetweenSlices = _ds_number(spacing)
        ds.KVP = "120"
        ds.DataCollectionDiameter = "500"
        ds.ReconstructionDiameter = _ds_number(CT_FOV)
        ds.DistanceSourceToDetector = "1085.6"
        ds.DistanceSourceToPatient = "595"
        ds.GantryDetectorTilt = "0"
        ds.TableHeight = "160"
        ds.RotationDirection = "CW"
        ds.ExposureTime = "500"
        ds.XRayTubeCurrent = 280
        ds.Exposure = 140
        ds.FilterType = "BODY"
        ds.GeneratorPower = 34
        ds.FocalSpots = "1.2"
        ds.ConvolutionKernel = "BONE"
        ds.SpiralPitchFactor = 0.8
        ds.CTDIvol = 12.4
        ds.IrradiationEventUID = event
        ds.ImagePositionPatient = [_ds_number(plane.x0), _ds_number(plane.v0), _ds_number(z + TABLE_Z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceLocation = _ds_number(z + TABLE_Z)
        ds.PixelSpacing = [_ds_number(px, 6), _ds_number(px, 6)]
        ds.WindowCenter = [40, 400]
        ds.WindowWidth = [400, 1800]
        ds.WindowCenterWidthExplanation = ["SOFT TISSUE", "BONE"]
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        _pixels(ds, stored, 12)
        out.append(ds)
    return out


# --------------------------------------------------------------------------
# MR

MR_SIZE = 384
MR_FOV = 384.0
MR_CENTRE = (0.0, 20.0)  # x, z
MR_SLICE_GAP = 6.0


@dataclass(frozen=True)
class _Sequence:
    """The acquisition parameters of one MR series."""

    number: int
    description: str
    protocol: str
    scanning: tuple[str, ...]
    variant: tuple[str, ...]
    name: str
    tr: str
    te: str
    ti: str | None
    echo_train: int
    options: str


MR_PARAMETERS = {
    "T1": _Sequence(3, "COR T1 TSE PELVIS R/O HO", "PELVIS COR T1", ("SE",), ("SK", "SP"), "*tse2d1_3", "550", "12",
                    None, 3, "SAT1"),
    "STIR": _Sequence(4, "COR STIR PELVIS R/O HO", "PELVIS COR STIR", ("SE", "IR"), ("SK", "SP", "MP"),
                      "*tir2d1_15", "4500", "40", "150", 15, "IR"),
}  # fmt: skip


def mr_pelvis(
    *, patient: Patient, sequence: str = "T1", slices: int = 16, severity: int = 3, seed: int = 0
) -> list[Dataset]:
    """Return a coronal T1 or STIR MR of the pelvis, one dataset per slice from front to back."""
    sequence = _check_choice("sequence", sequence, MR_SEQUENCES)
    slices = _check_int("slices", slices, range(1, 129))
    severity = _check_int("severity", severity, SEVERITIES)
    seed = _check_int("seed", seed, range(2**63))
    scene = _scene(patient.seed, severity)
    params = MR_PARAMETERS[sequence]
    n = MR_SIZE
    px = MR_FOV / n
    rng = np.random.default_rng([seed, patient.seed, 21, MR_SEQUENCES.index(sequence)])
    texture = _band_noise(rng, (2 * n, 2 * n), 0.8, 2.5)
    palette = _palette(MR_SIGNAL[sequence])
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    r2 = ((xx - n / 2) / (n / 2)) ** 2
    shading = (0.86 + 0.28 * r2) * (1.0 - 0.12 * ((yy - n / 2) / (n / 2)) ** 2)

    start = _start(patient, 2, 0)
    date = _day(patient, 0)
    study = _Study(
        _uid(1, patient.seed, "MR", date),
        date,
        _clock(start),
        "MRI PELVIS WO CONTRAST",
        "Bilateral hip pain after trauma. Known HO on CT, assess maturity",
    )
    series_time = start + (300 if sequence == "T1" else 660)
    series = _Series(
        _uid(2, study.uid, params.number, seed),
        params.number,
        params.description,
        params.protocol,
        _clock(series_time),
        _uid(4, study.uid, "MR"),
    )
    out = []
    for k in range(slices):
        y = (k - (slices - 1) / 2) * MR_SLICE_GAP + 5.0
        plane = _coronal(y, (n, n), px, MR_CENTRE)
        ox, oy = (int(v) for v in rng.integers(0, n, 2))
        sig = _render(scene, plane, palette, texture[oy : oy + n, ox : ox + n], MR_TEXTURE[sequence])[..., 0]
        sig = _gauss(sig * shading, 0.7)
        noise = np.random.default_rng([seed, patient.seed, 22, k]).standard_normal((2, n, n), np.float32) * 14.0
        sig = np.sqrt((sig + noise[0]) ** 2 + noise[1] ** 2)
        sig = _burn_label(sig, 1000.0, 9)
        stored = np.clip(np.rint(sig), 0, 4095).astype(np.uint16)

        ds = _header(
            patient,
            study,
            series,
            sop_class=MRImageStorage,
            modality="MR",
            instance=k + 1,
            acquired=_clock(series_time + 5),
            image_type=["ORIGINAL", "PRIMARY", "M", "ND"],
            model="Synthetic MR 1.5T",
        )
        ds.PatientPosition = "HFS"
        ds.ScanningSequence = list(params.scanning) if len(params.scanning) > 1 else params.scanning[0]
        ds.SequenceVariant = list(params.variant)
        ds.ScanOptions = params.options
        ds.MRAcquisitionType = "2D"
        ds.SequenceName = params.name
        ds.SliceThickness = "5"
        ds.RepetitionTime = params.tr
        ds.EchoTime = params.te
        if params.ti is not None:
            ds.InversionTime = params.ti
        ds.NumberOfAverages = "2"
        ds.ImagingFrequency = "63.677"
        ds.ImagedNucleus = "1H"
        ds.EchoNumbers = "1"
        ds.MagneticFieldStrength = "1.5"
        ds.SpacingBetweenSlices = _ds_number(MR_SLICE_GAP)
        ds.EchoTrainLength = params.echo_train
        ds.PixelBandwidth = "200"
        ds.ReceiveCoilName = "BODY ARRAY"
        ds.TransmitCoilName = "BODY"
        ds.AcquisitionMatrix = [0, 320, 256, 0]
        ds.InPlanePhaseEncodingDirection = "ROW"
        ds.FlipAngle = "150"
        ds.SAR = "1.2"
        ds.ImagePositionPatient = [_ds_number(plane.x0), _ds_number(y), _ds_number(plane.v0 + TABLE_Z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
        ds.SliceLocation = _ds_number(y)
        ds.PixelSpacing = [_ds_number(px, 6), _ds_number(px, 6)]
        body = stored[stored > 60]
        lo, hi = np.percentile(body, (1, 99.5)) if body.size else (0.0, 1000.0)
        ds.WindowCenter = _ds_number((lo + hi) / 2, 1)
        ds.WindowWidth = _ds_number(max(hi - lo, 1.0), 1)
        _pixels(ds, stored, 12)
        out.append(ds)
    return out


# --------------------------------------------------------------------------
# CR

CR_SCALE = 2  # the phantom radiograph's 1024 × 860 pixels, doubled
CR_PIXEL = 0.2  # mm at the detector: the phantom's femoral heads are ~48 mm across at 0.4 mm per pixel


def pelvis_radiograph(*, patient: Patient, severity: int = 3, seed: int = 0, monochrome1: bool = True) -> list[Dataset]:
    """Return one 12-bit AP computed radiograph of the pelvis, stored MONOCHROME1 (bone dark) by default."""
    severity = _check_int("severity", severity, SEVERITIES)
    seed = _check_int("seed", seed, range(2**63))
    if not isinstance(monochrome1, bool):
        raise SyntheticError(f"monochrome1 must be True or False, got {monochrome1!r}")
    small = phantoms.render("pelvis_radiograph", severity=severity, arrows=False, seed=seed)
    size = (small.width * CR_SCALE, small.height * CR_SCALE)
    big = Image.fromarray(np.asarray(small, dtype=np.float32), "F").resize(size, Image.Resampling.BICUBIC)
    grey = np.asarray(big, dtype=np.float32) * (4095.0 / 255.0)
    mottle = _gauss(np.random.default_rng([seed, patient.seed, 31]).standard_normal(grey.shape, np.float32), 0.8)
    grey = np.clip(np.rint(grey + 12.0 * mottle), 0, 4095)
    stored = (4095 - grey if monochrome1 else grey).astype(np.uint16)

    start = _start(patient, 3, 0)
    date = _day(patient, 0)
    study = _Study(
        _uid(1, patient.seed, "CR", date),
        date,
        _clock(start),
        "XR PELVIS 1 VIEW",
        "Hip pain and stiffness both sides after major trauma. ?HO",
    )
    series = _Series(_uid(2, study.uid, 1, seed), 1, "AP PELVIS R/O HO", "PELVIS AP", _clock(start + 60))
    ds = _header(
        patient,
        study,
        series,
        sop_class=ComputedRadiographyImageStorage,
        modality="CR",
        instance=1,
        acquired=_clock(start + 75),
        image_type=["ORIGINAL", "PRIMARY"],
        model="Synthetic CR Reader",
    )
    ds.ViewPosition = "AP"
    ds.PatientOrientation = ["L", "F"]
    ds.KVP = "80"
    ds.DistanceSourceToDetector = "1150"
    ds.DistanceSourceToPatient = "950"
    ds.ExposureTime = "40"
    ds.XRayTubeCurrent = 500
    ds.Exposure = 20
    ds.Grid = ["FOCUSED"]
    ds.FocalSpots = "1.2"
    ds.PlateType = "ST-VI"
    ds.PhosphorType = "BaFBr"
    ds.Sensitivity = "200"
    ds.RelativeXRayExposure = 900
    ds.ImagerPixelSpacing = [_ds_number(CR_PIXEL), _ds_number(CR_PIXEL)]
    ds.EstimatedRadiographicMagnificationFactor = "1.21"
    ds.IrradiationEventUID = _uid(5, series.uid)
    # the window spans the patient, not the unattenuated background; it inverts with the stored values
    lo, hi = np.percentile(grey[grey > 400], (0.5, 99.8))
    centre = (lo + hi) / 2
    ds.WindowCenter = _ds_number(4095 - centre if monochrome1 else centre, 1)
    ds.WindowWidth = _ds_number(max(hi - lo, 1.0), 1)
    _pixels(ds, stored, 12, "MONOCHROME1" if monochrome1 else "MONOCHROME2")
    return [ds]


# --------------------------------------------------------------------------
# bone scintigraphy

NM_MU = 0.011  # broad-beam attenuation of 140 keV photons in soft tissue, per mm
NM_Y = np.arange(-150.0, 151.0, 6.0)  # coronal planes projected onto the camera
NM_BLUR_MM = 4.5  # collimator and scatter blur (sigma)
CAMERA_PX = 2.21  # mm: a 566 mm field on a 256 matrix
CAMERA_CENTRE = (0.0, 20.0)
SPOT_PX = 1.77  # zoom 1.25
WB_PX = 2.4
WB_SHAPE = (1024, 256)
WB_TOP = 1200.0
DOSE_MBQ = "799.2"  # 21.6 mCi
FLOW_FRAMES = 30  # of 2 s each
FLOW_LAST_COUNTS = 30_000.0  # in the last flow frame
HALF_LIFE_S = "21624.12"


@lru_cache(maxsize=6)
def _projection(seed: int, shape: tuple[int, int], px: float, centre: tuple[float, float]) -> FloatArray:
    """Return anterior and posterior projections of each compartment: 2 × rows × columns × compartments."""
    scene = _scene(seed, 3)
    palette = _nm_palette()
    out = np.zeros((2, *shape, len(NM_CLASSES)), dtype=np.float32)
    dy = float(NM_Y[1] - NM_Y[0])
    depth = np.zeros(shape, dtype=np.float32)  # tissue in front of the current plane, mm
    for y in NM_Y:
        img = _render(scene, _coronal(float(y), shape, px, centre), palette)
        tissue = img.sum(axis=-1)
        middle = depth + 0.5 * dy * tissue
        out[0] += img * (np.exp(-NM_MU * middle) * dy)[..., None]
        out[1] += img * (np.exp(NM_MU * middle) * dy)[..., None]  # rescaled by the total depth below
        depth += dy * tissue
    out[1] *= np.exp(-NM_MU * depth)[..., None]
    out.setflags(write=False)
    return out


def _gamma_variate(t: float, arrival: float, peak: float) -> float:
    """Return a first-pass bolus curve, 1 at its peak."""
    x = (t - arrival) / peak
    return x**3 * math.exp(3.0 * (1.0 - x)) if x > 0 else 0.0


def _flow_weights(t: float, activity: int) -> npt.NDArray[np.float32]:
    """Return compartment concentrations t seconds after injection."""
    artery = _gamma_variate(t, 8.0, 5.0) + 0.25 * (1 - math.exp(-max(t - 8.0, 0) / 12.0))
    vein = 0.7 * _gamma_variate(t, 14.0, 8.0) + 0.3 * (1 - math.exp(-max(t - 14.0, 0) / 15.0))
    soft = 0.05 * (1 - math.exp(-max(t - 11.0, 0) / 14.0))
    halo = soft * (1 + 1.4 * activity) + 0.04 * activity * _gamma_variate(t, 10.0, 6.0)
    bone = 0.02 * (1 - math.exp(-max(t - 12.0, 0) / 30.0))
    urine = 0.0
    return np.array([soft, bone, 1.2 * halo, halo, artery, vein, urine], dtype=np.float32)


def _poisson(rng: np.random.Generator, expected: FloatArray) -> npt.NDArray[np.uint16]:
    """Draw Poisson counts around an expected-count image."""
    return np.clip(rng.poisson(np.clip(expected, 0, None)), 0, 65535).astype(np.uint16)


def _counts(rng: np.random.Generator, expected: FloatArray, total: float) -> npt.NDArray[np.uint16]:
    """Scale an expected image to a total count and draw Poisson counts."""
    return _poisson(rng, expected * (total / max(float(expected.sum()), 1e-9)))


def _nm_label(frame: npt.NDArray[np.uint16], size: int) -> npt.NDArray[np.uint16]:
    """Burn the synthetic-data label into a count image at a mid-grey count."""
    value = 0.5 * float(np.percentile(frame, 99.5)) + 1.0
    return np.rint(_burn_label(frame.astype(np.float32), value, size)).astype(np.uint16)


# whole-body skeleton outside the 3-D model, as 2-D chords: (x0, z0, x1, z1, radius, depth), anterior and posterior
# attenuation; capsules have a circular or elliptical cross-section of the given depth
Chord = tuple[float, float, float, float, float, float, float, float]


def _wb_items() -> tuple[list[Chord], list[Chord], list[tuple[float, float, float, float, float, float, float]]]:
    """Return the whole-body outline, the skeleton outside the pelvis model, and the kidneys."""
    outline: list[Chord] = [
        (0, 780, 0, 840, 78, 95, 1, 1),  # head
        (0, 700, 0, 620, 52, 55, 1, 1),  # neck
        (0, 520, 0, 160, 165, 115, 1, 1),  # trunk
        (-175, 580, 175, 580, 55, 60, 1, 1),  # shoulders
        (0, 150, 0, -60, 178, 115, 1, 1),  # hips
    ]
    bones: list[Chord] = [
        (0, 722, 0, 600, 12, 12, 0.25, 0.4),  # cervical spine
        (0, 600, 0, 300, 16, 16, 0.15, 0.45),  # thoracic spine
        (0, 556, 0, 400, 14, 6, 0.6, 0.15),  # sternum
        (0, 745, 0, 735, 45, 14, 0.4, 0.25),  # facial bones
    ]
    for s in SIDES:
        outline += [
            (s * 95, -20, s * 85, -480, 80, 75, 1, 1),
            (s * 85, -480, s * 80, -900, 55, 55, 1, 1),
            (s * 85, -915, s * 85, -950, 40, 40, 1, 1),
            (s * 215, 590, s * 225, 300, 45, 45, 1, 1),
            (s * 228, 300, s * 238, 40, 38, 38, 1, 1),
            (s * 242, 10, s * 244, -70, 35, 18, 1, 1),
        ]
        bones += [
            (s * 52, 760, s * 45, 708, 7, 7, 0.35, 0.25),  # mandible
            (s * 45, 708, 0, 690, 7, 7, 0.35, 0.25),
            (s * 18, 578, s * 150, 600, 9, 9, 0.6, 0.25),  # clavicle
            (s * 100, 530, s * 125, 430, 30, 4, 0.2, 0.6),  # scapula
            (s * 80, 540, s * 160, 560, 7, 7, 0.2, 0.55),  # spine of scapula
            (s * 185, 578, s * 188, 570, 26, 26, 0.35, 0.35),  # humeral head
            (s * 195, 555, s * 220, 320, 11, 11, 0.45, 0.45),  # humerus
            (s * 210, 305, s * 236, 305, 14, 16, 0.4, 0.4),  # elbow
            (s * 215, 295, s * 230, 50, 6, 6, 0.45, 0.45),  # radius
            (s * 232, 295, s * 245, 50, 6, 6, 0.45, 0.45),  # ulna
            (s * 232, 30, s * 250, 30, 18, 12, 0.4, 0.4),  # carpus
            (s * 102, -478, s * 102, -492, 36, 26, 0.28, 0.28),  # femoral condyles
            (s * 102, -466, s * 102, -474, 15, 8, 0.5, 0.1),  # patella
            (s * 98, -512, s * 98, -518, 34, 24, 0.3, 0.3),  # tibial plateau
            (s * 96, -525, s * 85, -880, 13, 13, 0.55, 0.4),  # tibia
            (s * 128, -525, s * 118, -870, 6, 6, 0.35, 0.45),  # fibula
            (s * 85, -900, s * 85, -905, 22, 22, 0.35, 0.35),  # ankle
            (s * 88, -925, s * 88, -945, 30, 20, 0.35, 0.35),  # foot
        ]
        for k in range(5):  # metacarpals and fingers
            bones.append((s * (226 + 7 * k), 15, s * (224 + 9 * k), -80 + 8 * abs(k - 2), 3.5, 3.5, 0.45, 0.45))
        for i in range(11):  # ribs: posterior arc then anterior arc
            z0 = 565.0 - 23.0 * i
            lateral = 130.0 + 3.0 * min(i, 6)
            bones += [
                (s * 16, z0, s * (lateral - 20), z0 - 12, 5, 5, 0.2, 0.45),
                (s * (lateral - 20), z0 - 12, s * lateral, z0 - 55, 5, 5, 0.3, 0.3),
            ]
            if i < 9:
                bones.append((s * lateral, z0 - 55, s * (30 + 8 * i), z0 - 100 - 4 * i, 4.5, 4.5, 0.45, 0.2))
    kidneys = [(-55.0, 300.0, 30.0, 55.0, 45.0, 0.2, 0.5), (58.0, 320.0, 30.0, 55.0, 45.0, 0.2, 0.5)]
    return outline, bones, kidneys


def _capsule_chord(x: FloatArray, z: FloatArray, item: Chord) -> FloatArray:
    """Return the depth through a capsule seen from the front at each (x, z)."""
    x0, z0, x1, z1, r, depth = item[:6]
    vx, vz = x1 - x0, z1 - z0
    vv = max(vx * vx + vz * vz, 1e-9)
    t = np.clip(((x - x0) * vx + (z - z0) * vz) / vv, 0, 1)
    d2 = ((x - x0 - t * vx) ** 2 + (z - z0 - t * vz) ** 2) / (r * r)
    return (2.0 * depth * np.sqrt(np.clip(1.0 - d2, 0, None))).astype(np.float32)


def _whole_body(seed: int, activity: int) -> tuple[FloatArray, FloatArray]:
    """Return expected anterior and posterior whole-body images (rows × columns)."""
    rows, cols = WB_SHAPE
    x = (-(cols - 1) / 2 * WB_PX + WB_PX * np.arange(cols, dtype=np.float32))[None, :]
    z = (WB_TOP - WB_PX * np.arange(rows, dtype=np.float32))[:, None]
    outline, bones, kidneys = _wb_items()
    thickness = np.zeros((rows, cols), dtype=np.float32)
    for item in outline:
        thickness = np.maximum(thickness, _capsule_chord(x, z, item))
    soft = (1.0 - np.exp(-NM_MU * thickness)) / NM_MU  # attenuated path length
    views = []
    for v in (0, 1):
        img = 0.012 * soft
        for item in bones:
            img = img + item[6 + v] * _capsule_chord(x, z, item)
        # skull vault: the difference of two ellipsoids
        vault = _capsule_chord(x, z, (0, 800, 0, 830, 74, 90, 1, 1)) - _capsule_chord(
            x, z, (0, 800, 0, 830, 66, 82, 1, 1)
        )
        img = img + 0.3 * vault
        for kx, kz, a, b, depth, att_a, att_p in kidneys:
            k2 = ((x - kx) / a) ** 2 + ((z - kz) / b) ** 2
            img = img + 0.12 * (att_a, att_p)[v] * 2 * depth * np.sqrt(np.clip(1 - k2, 0, None))
        views.append(img.astype(np.float32))
    # the pelvis, lumbar spine and femora from the 3-D model
    top, bottom = 300.0, -486.0
    r0 = int(math.ceil((WB_TOP - top) / WB_PX))
    r1 = int(math.floor((WB_TOP - bottom) / WB_PX))
    centre_z = WB_TOP - WB_PX * (r0 + r1 - 1) / 2
    proj = _projection(seed, (r1 - r0, cols), WB_PX, (0.0, centre_z))
    weights = _delayed_weights(activity)
    weights[NM_CLASSES.index("soft")] = 0.0  # the outline above already holds the soft tissue
    for v in (0, 1):
        views[v][r0:r1] += proj[v] @ weights
    return views[0], views[1]


def _delayed_weights(activity: int) -> npt.NDArray[np.float32]:
    """Return compartment uptake about three hours after injection."""
    return np.array([0.012, 1.0, 1.0 + 1.1 * activity, 0.012 + 0.01 * activity, 0.01, 0.01, 2.0], dtype=np.float32)


def bone_scan(*, patient: Patient, phase: str, activity: int = 3, seed: int = 0, day_offset: int = 0) -> list[Dataset]:
    """Return one phase ("flow", "blood_pool" or "delayed") of a triple-phase Tc-99m MDP bone scan."""
    phase = _check_choice("phase", phase, SCAN_PHASES)
    activity = _check_int("activity", activity, SEVERITIES)
    seed = _check_int("seed", seed, range(2**63))
    day_offset = _check_int("day_offset", day_offset, range(0, 3651))
    rng = np.random.default_rng([seed, patient.seed, 41, SCAN_PHASES.index(phase)])
    date = _day(patient, day_offset)
    injected = _start(patient, 4, day_offset, span_hours=3)  # the delayed images follow some 3 hours later
    study = _Study(
        _uid(1, patient.seed, "NM", date),
        date,
        _clock(injected - 300),
        "NM BONE SCAN 3 PHASE",
        "Restricted painful hips after trauma. ?Heterotopic ossification, maturity before resection",
    )
    frame_of_reference = _uid(4, study.uid, "NM")

    def series(number: int, description: str, protocol: str, at: float) -> _Series:
        return _Series(_uid(2, study.uid, number, seed), number, description, protocol, _clock(at), frame_of_reference)

    if phase == "flow":
        proj = _projection(patient.seed, (256, 256), CAMERA_PX, CAMERA_CENTRE)[0]
        proj = proj.reshape(128, 2, 128, 2, len(NM_CLASSES)).sum(axis=(1, 3))
        scale = FLOW_LAST_COUNTS / float((proj @ _flow_weights(FLOW_FRAMES * 2.0 - 1.0, activity)).sum())
        frames = []
        for k in range(FLOW_FRAMES):
            expected = _gauss(proj @ _flow_weights(2.0 * k + 1.0, activity), NM_BLUR_MM / (2 * CAMERA_PX))
            frames.append(_nm_label(_poisson(rng, expected * scale), 7))
        s = series(1, "FLOW ANT PELVIS 2S/FR R/O HO", "3PH BONE FLOW", injected)
        ds = _nm_dataset(patient, study, s, np.stack(frames), "DYNAMIC", 2 * CAMERA_PX, ("ANT",), injected)
        ds.ActualFrameDuration = 2000
        ds.FrameTime = "2000"
        ds.AcquisitionTerminationCondition = "TIME"
        ds.NumberOfPhases = 1
        ds.PhaseVector = [1] * FLOW_FRAMES
        ds.NumberOfTimeSlices = FLOW_FRAMES
        ds.TimeSliceVector = list(range(1, FLOW_FRAMES + 1))
        info = Dataset()
        info.PhaseDelay = 0
        info.ActualFrameDuration = 2000
        info.PauseBetweenFrames = 0
        info.NumberOfFramesInPhase = FLOW_FRAMES
        info.PhaseDescription = "FLOW"
        ds.PhaseInformationSequence = DicomSequence([info])
        ds.FrameIncrementPointer = [Tag(0x0054, 0x0010), Tag(0x0054, 0x0020), Tag(0x0054, 0x0030), Tag(0x0054, 0x0100)]
        return [ds]

    if phase == "blood_pool":
        proj = _projection(patient.seed, (256, 256), CAMERA_PX, CAMERA_CENTRE)[0]
        weights = np.array(
            [0.05, 0.06, 0.08 * (1 + activity), 0.05 * (1 + 1.5 * activity), 0.35, 0.45, 0.15], dtype=np.float32
        )
        expected = _gauss(proj @ weights, NM_BLUR_MM / CAMERA_PX)
        frame = _nm_label(_counts(rng, expected, 450_000.0), 8)
        at = injected + 300
        s = series(2, "BLOOD POOL ANT PELVIS R/O HO", "3PH BONE BLOOD POOL", at)
        ds = _nm_dataset(patient, study, s, frame[None], "STATIC", CAMERA_PX, ("ANT",), at)
        ds.ActualFrameDuration = 180_000
        ds.AcquisitionTerminationCondition = "CNTS"
        return [ds]

    at = injected + 3 * 3600 + 600
    ant, post = _whole_body(patient.seed, activity)
    sigma = NM_BLUR_MM / WB_PX
    views = [_nm_label(_counts(rng, _gauss(v, sigma), total), 8) for v, total in ((ant, 1.9e6), (post[:, ::-1], 2.0e6))]
    wb = series(3, "WB DELAYED ANT/POST R/O HO", "WHOLE BODY BONE", at)
    ds_wb = _nm_dataset(patient, study, wb, np.stack(views), "WHOLE BODY", WB_PX, ("ANT", "POST"), at)
    ds_wb.WholeBodyTechnique = ["1PS"]
    ds_wb.ScanVelocity = "2"
    ds_wb.ScanLength = round(WB_SHAPE[0] * WB_PX)
    ds_wb.ActualFrameDuration = round(WB_SHAPE[0] * WB_PX / 2.0 * 1000)
    ds_wb.AcquisitionTerminationCondition = "TIME"

    spot_at = at + 25 * 60
    proj = _projection(patient.seed, (256, 256), SPOT_PX, CAMERA_CENTRE)[0]
    expected = _gauss(proj @ _delayed_weights(activity), NM_BLUR_MM / SPOT_PX)
    frame = _nm_label(_counts(rng, expected, 800_000.0), 8)
    spot = series(4, "SPOT ANT PELVIS DELAYED R/O HO", "BONE SPOT PELVIS", spot_at)
    ds_spot = _nm_dataset(patient, study, spot, frame[None], "STATIC", SPOT_PX, ("ANT",), spot_at, zoom=1.25)
    ds_spot.ActualFrameDuration = 240_000
    ds_spot.AcquisitionTerminationCondition = "CNTS"
    return [ds_wb, ds_spot]


VIEWS = {
    "ANT": (("G-5215", "SRT", "Anterior projection"), [1, 0, 0, 0, 0, -1], ["L", "F"]),
    "POST": (("G-5216", "SRT", "Posterior projection"), [-1, 0, 0, 0, 0, -1], ["R", "F"]),
}


def _nm_dataset(
    patient: Patient,
    study: _Study,
    series: _Series,
    frames: npt.NDArray[np.uint16],
    kind: str,
    px: float,
    views: tuple[str, ...],
    acquired: float,
    zoom: float = 1.0,
) -> Dataset:
    """Return an NM Image object: isotope, detectors, frame vectors and counts."""
    ds = _header(
        patient,
        study,
        series,
        sop_class=NuclearMedicineImageStorage,
        modality="NM",
        instance=1,
        acquired=_clock(acquired),
        image_type=["ORIGINAL", "PRIMARY", kind, "EMISSION"],
        model="Synthetic Dual-Head Camera",
    )
    n = frames.shape[0]
    ds.PatientOrientation = VIEWS[views[0]][2]
    ds.NumberOfFrames = n
    ds.FrameIncrementPointer = [Tag(0x0054, 0x0010), Tag(0x0054, 0x0020)]
    ds.NumberOfEnergyWindows = 1
    ds.EnergyWindowVector = [1] * n
    detectors = len(views)
    ds.NumberOfDetectors = detectors
    ds.DetectorVector = [1] * n if detectors == 1 else list(range(1, detectors + 1))
    ds.CountsAccumulated = int(frames.astype(np.int64).sum())
    ds.CorrectedImage = ["UNIF", "LIN", "ENER"]
    ds.PixelSpacing = [_ds_number(px), _ds_number(px)]

    window = Dataset()
    window.EnergyWindowName = "TC99M"
    limits = Dataset()
    limits.EnergyWindowLowerLimit = "126"
    limits.EnergyWindowUpperLimit = "154"
    window.EnergyWindowRangeSequence = DicomSequence([limits])
    ds.EnergyWindowInformationSequence = DicomSequence([window])
    drug = Dataset()
    drug.Radiopharmaceutical = "Tc-99m MDP"
    drug.RadiopharmaceuticalRoute = "IV"
    drug.RadiopharmaceuticalStartTime = _clock(_seconds(study.time) + 300)
    drug.RadiopharmaceuticalStartDateTime = study.date + drug.RadiopharmaceuticalStartTime
    drug.RadionuclideTotalDose = DOSE_MBQ
    drug.RadionuclideHalfLife = HALF_LIFE_S
    drug.RadionuclideCodeSequence = DicomSequence([_code("C-163A8", "SRT", "^99m^Technetium")])
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([drug])

    items = []
    for view in views:
        code, orientation, _ = VIEWS[view]
        item = Dataset()
        item.CollimatorGridName = "LEHR"
        item.CollimatorType = "PARA"
        item.FieldOfViewShape = "RECTANGLE"
        item.FieldOfViewDimensions = [533, 387]
        item.ZoomFactor = [_ds_number(zoom), _ds_number(zoom)]
        item.ImageOrientationPatient = orientation
        item.ViewCodeSequence = DicomSequence([_code(*code)])
        items.append(item)
    ds.DetectorInformationSequence = DicomSequence(items)
    ds.PatientOrientationCodeSequence = DicomSequence([_code("F-10450", "99SDM", "recumbent")])
    ds.PatientOrientationCodeSequence[0].PatientOrientationModifierCodeSequence = DicomSequence(
        [_code("F-10340", "99SDM", "supine")]
    )
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([_code("F-10470", "99SDM", "headfirst")])
    _pixels(ds, frames, 16)
    return ds


def _seconds(tm: str) -> float:
    """Return a TM value as seconds after midnight."""
    return int(tm[0:2]) * 3600 + int(tm[2:4]) * 60 + float(tm[4:])


# --------------------------------------------------------------------------
# files


def planted_study_files(datasets: list[Dataset]) -> dict[str, bytes]:
    """Return the datasets as DICOM files (Explicit VR Little Endian) named after the patient, as uploads arrive."""
    files: dict[str, bytes] = {}
    for index, ds in enumerate(datasets, start=1):
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        files[f"{ds.PatientName}_{ds.Modality}_{index:04d}.dcm"] = buffer.getvalue()
    return files
