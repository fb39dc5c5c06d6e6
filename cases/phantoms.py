"""Deterministic synthetic phantoms for the teaching file's demo content.

Every image is drawn from simple geometry with numpy and Pillow, carries a
small burned-in "SYNTHETIC" label and contains no patient data.  The same
options always give byte-identical pixels.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["PHANTOMS", "PhantomError", "render"]

FloatArray = npt.NDArray[np.float32]
Point = tuple[float, float]
Blob = tuple[float, float, float, float, float]  # u, v, a, b, angle (degrees)
Painter = Callable[[ImageDraw.ImageDraw], None]

LABEL = "SYNTHETIC"
SEVERITIES = range(4)
CT_LEVELS = ("acetabulum", "femoral_neck")
MR_SEQUENCES = ("T1", "STIR")
SCAN_PHASES = ("flow", "blood_pool", "delayed")


class PhantomError(ValueError):
    """Signal an unknown phantom name or an invalid option."""


# --------------------------------------------------------------------------
# option checking


def _check_int(name: str, value: object, values: range) -> int:
    """Return value as an int if it lies in values, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise PhantomError(f"{name} must be an integer, got {value!r}")
    if int(value) not in values:
        raise PhantomError(f"{name} must be between {values.start} and {values.stop - 1}, got {value!r}")
    return int(value)


def _check_bool(name: str, value: object) -> bool:
    """Return value if it is a bool, else raise."""
    if not isinstance(value, bool | np.bool_):
        raise PhantomError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return value if it is one of choices, else raise."""
    if not isinstance(value, str) or value not in choices:
        raise PhantomError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def _check_seed(value: object) -> int:
    """Return a valid non-negative integer seed, else raise."""
    return _check_int("seed", value, range(2**63))


def _rng(seed: int, stream: int) -> np.random.Generator:
    """Return an independent generator for one component of a phantom."""
    return np.random.default_rng([seed, stream])


# --------------------------------------------------------------------------
# raster helpers


def _to_u8(a: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """Convert a [0, 1] float array to 8-bit pixels."""
    return np.clip(np.asarray(a) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _blur(a: FloatArray, radius: float | tuple[float, float]) -> FloatArray:
    """Gaussian-blur a [0, 1] float array with Pillow."""
    img = Image.fromarray(_to_u8(a))
    img = img.filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(img, dtype=np.float32) / np.float32(255.0)


def _mask(size: tuple[int, int], paint: Painter, blur: float = 1.0) -> FloatArray:
    """Rasterise drawing commands into a soft [0, 1] mask."""
    img = Image.new("L", size, 0)
    paint(ImageDraw.Draw(img))
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(img, dtype=np.float32) / np.float32(255.0)


def _grid(width: int, height: int) -> tuple[FloatArray, FloatArray]:
    """Return broadcastable x and y pixel-centre coordinates."""
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    return xs, ys


def _ell(
    xs: FloatArray,
    ys: FloatArray,
    cx: float,
    cy: float,
    a: float,
    b: float,
    angle: float = 0.0,
    edge: float = 1.0,
) -> FloatArray:
    """Return a soft-edged rotated ellipse mask on a coordinate grid."""
    t = math.radians(angle)
    c, s = math.cos(t), math.sin(t)
    dx, dy = xs - cx, ys - cy
    p = (dx * c + dy * s) / a
    q = (-dx * s + dy * c) / b
    r = np.sqrt(p * p + q * q)
    return np.clip(0.5 - (r - 1.0) * math.sqrt(a * b) / edge, 0, 1).astype(np.float32)


def _capsule(
    xs: FloatArray,
    ys: FloatArray,
    p0: Point,
    p1: Point,
    radius: float,
    edge: float = 1.0,
) -> FloatArray:
    """Return a soft-edged mask of a thick segment with round ends."""
    (x0, y0), (x1, y1) = p0, p1
    vx, vy = x1 - x0, y1 - y0
    t = ((xs - x0) * vx + (ys - y0) * vy) / max(vx * vx + vy * vy, 1e-6)
    t = np.clip(t, 0, 1)
    d = np.hypot(xs - x0 - t * vx, ys - y0 - t * vy)
    return np.clip(0.5 - (d - radius) / edge, 0, 1).astype(np.float32)


def _over(base: FloatArray, mask: FloatArray, value: float | FloatArray) -> FloatArray:
    """Composite value over base through a soft mask."""
    return (base + (value - base) * mask).astype(np.float32)


def _texture(rng: np.random.Generator, shape: tuple[int, int], fine: float, coarse: float) -> FloatArray:
    """Return unit-variance band-pass noise for trabecular texture."""
    noise = rng.standard_normal(shape, dtype=np.float32)
    a = _blur(0.5 + 0.2 * noise, fine)
    t = a - _blur(a, coarse)
    return (t / (float(t.std()) + 1e-6)).astype(np.float32)


def _chaikin(pts: Sequence[Point], rounds: int = 3) -> list[Point]:
    """Smooth a closed polygon by corner cutting."""
    out = list(pts)
    for _ in range(rounds):
        nxt: list[Point] = []
        for i, (x0, y0) in enumerate(out):
            x1, y1 = out[(i + 1) % len(out)]
            nxt.append((0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1))
            nxt.append((0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1))
        out = nxt
    return out


def _ellipse_pts(cx: float, cy: float, a: float, b: float, angle: float = 0.0, n: int = 48) -> list[Point]:
    """Return polygon vertices of a rotated ellipse."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = math.radians(angle)
    c, s = math.cos(r), math.sin(r)
    x = cx + a * np.cos(t) * c - b * np.sin(t) * s
    y = cy + a * np.cos(t) * s + b * np.sin(t) * c
    return list(zip(x.tolist(), y.tolist(), strict=True))


def _stroke(d: ImageDraw.ImageDraw, pts: Sequence[Point], width: float) -> None:
    """Draw a white polyline with round joints and caps."""
    w = max(1, round(width))
    d.line(list(pts), fill=255, width=w, joint="curve")
    r = w / 2.0
    for x, y in (pts[0], pts[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _arc_pts(cx: float, cy: float, r: float, start: float, stop: float, n: int = 24) -> list[Point]:
    """Return points along a circular arc (degrees, y down)."""
    t = np.radians(np.linspace(start, stop, n))
    return list(zip((cx + r * np.cos(t)).tolist(), (cy + r * np.sin(t)).tolist(), strict=True))


def _blob_mask(
    shape: tuple[int, int],
    blobs: Sequence[Blob],
    rng: np.random.Generator,
    edge: float = 1.2,
) -> FloatArray:
    """Rasterise irregular lobulated ellipses into one union mask."""
    h, w = shape
    out = np.zeros(shape, dtype=np.float32)
    ks = np.arange(2, 7, dtype=np.float32)
    for cx, cy, a, b, angle in blobs:
        amps = rng.uniform(0.0, 0.16, ks.size).astype(np.float32) / (ks - 1) ** 0.6
        phases = rng.uniform(0.0, 2.0 * np.pi, ks.size).astype(np.float32)
        pad = max(a, b) * 1.5 + 3
        x0, x1 = max(int(cx - pad), 0), min(int(cx + pad) + 1, w)
        y0, y1 = max(int(cy - pad), 0), min(int(cy + pad) + 1, h)
        if x0 >= x1 or y0 >= y1:
            continue
        xs, ys = _grid(x1 - x0, y1 - y0)
        t = math.radians(angle)
        c, s = math.cos(t), math.sin(t)
        dx, dy = xs + x0 - cx, ys + y0 - cy
        p = (dx * c + dy * s) / a
        q = (-dx * s + dy * c) / b
        r = np.sqrt(p * p + q * q)
        th = np.arctan2(q, p)[..., None]
        rad = 1.0 + np.sum(amps * np.cos(ks * th + phases), axis=-1)
        m = np.clip(0.5 + (rad - r) * math.sqrt(a * b) / edge, 0, 1)
        np.maximum(out[y0:y1, x0:x1], m, out=out[y0:y1, x0:x1])
    return out


def _zonal(mask: FloatArray, rim_width: float) -> tuple[FloatArray, FloatArray]:
    """Split a mask into a dense peripheral rim and a softer core."""
    inner = _blur(mask, rim_width)
    rim = mask * np.clip(2.4 * (1.0 - inner) - 0.15, 0, 1)
    return (mask - rim).astype(np.float32), rim.astype(np.float32)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return Pillow's built-in font at roughly the given size."""
    return ImageFont.load_default(size=size)


def _label(img: Image.Image, fill: int, size: int = 11, text: str = LABEL) -> Image.Image:
    """Burn the small synthetic-data label into the bottom-right corner."""
    d = ImageDraw.Draw(img)
    font = _font(size)
    left, top, right, bottom = d.textbbox((0, 0), text, font=font)
    d.text(
        (img.width - (right - left) - 6 - left, img.height - bottom - 5),
        text,
        fill=fill,
        font=font,
    )
    return img


def _text(img: Image.Image, xy: Point, text: str, fill: int, size: int = 11) -> None:
    """Draw a small annotation such as a view or frame label."""
    ImageDraw.Draw(img).text(xy, text, fill=fill, font=_font(size))


def _finish(a: FloatArray) -> Image.Image:
    """Convert a [0, 1] float image into an 8-bit greyscale Pillow image."""
    return Image.fromarray(_to_u8(a), mode="L")


# --------------------------------------------------------------------------
# shared AP pelvis geometry, in half-pelvis units (u lateral, v caudal)


class _Frame:
    """Map half-pelvis (u, v) coordinates onto image pixels."""

    def __init__(self, cx: float, top: float, scale: float) -> None:
        self.cx, self.top, self.scale = cx, top, scale

    def xy(self, u: float, v: float, side: int) -> Point:
        """Map one point; side is -1 for image left, +1 for image right."""
        return (self.cx + side * u * self.scale, self.top + v * self.scale)

    def poly(self, pts: Sequence[Point], side: int) -> list[Point]:
        """Map a sequence of points onto one side."""
        return [self.xy(u, v, side) for u, v in pts]

    def sym(self, half: Sequence[Point]) -> list[Point]:
        """Map a left half outline and its mirror into one closed polygon."""
        return self.poly(half, -1) + self.poly(list(reversed(half)), 1)

    def ellipse(self, blob: Blob, side: int, n: int = 48) -> list[Point]:
        """Map a rotated ellipse onto one side."""
        return self.poly(_ellipse_pts(*blob, n=n), side)


SIDES = (-1, 1)

_BODY_LATERAL: list[Point] = [
    (392, -40),
    (396, 100),
    (404, 220),
    (424, 340),
    (446, 450),
    (456, 540),
    (452, 630),
    (440, 760),
    (430, 900),
    (424, 1120),
]
_BODY_MEDIAL: list[Point] = [(40, 1120), (32, 900), (20, 800), (0, 760)]

_ILIUM: list[Point] = [
    (106, 232),
    (118, 186),
    (146, 140),
    (188, 106),
    (238, 90),
    (286, 96),
    (324, 119),
    (349, 156),
    (361, 200),
    (360, 238),
    (349, 262),
    (343, 288),
    (349, 316),
    (338, 350),
    (314, 382),
    (286, 408),
    (284, 450),
    (274, 500),
    (260, 540),
    (251, 580),
    (246, 625),
    (240, 668),
    (228, 700),
    (205, 716),
    (172, 718),
    (138, 707),
    (98, 690),
    (58, 676),
    (24, 666),
    (9, 652),
    (9, 582),
    (30, 569),
    (72, 558),
    (116, 538),
    (154, 514),
    (178, 488),
    (183, 450),
    (174, 405),
    (154, 360),
    (130, 320),
    (112, 285),
    (104, 256),
]
_OBTURATOR: list[Point] = [
    (110, 575),
    (150, 556),
    (185, 548),
    (205, 565),
    (212, 610),
    (205, 655),
    (185, 680),
    (150, 682),
    (115, 662),
    (95, 632),
    (96, 596),
]
_SACRUM_HALF: list[Point] = [
    (0, 246),
    (62, 243),
    (92, 248),
    (116, 258),
    (128, 276),
    (124, 305),
    (116, 345),
    (108, 388),
    (97, 428),
    (78, 466),
    (54, 500),
    (32, 528),
    (16, 548),
    (0, 554),
]
_SACRAL_FORAMINA = ((48, 292, 10), (46, 338, 9), (42, 383, 8), (35, 425, 6.5))
_COCCYX: list[Blob] = [(0, 568, 10, 8, 0), (0, 588, 8, 7, 0), (0, 605, 6, 5.5, 0)]

HEAD_UV = (240.0, 470.0)
HEAD_R = 60.0
_NECK_END: Point = (318, 540)
_NECK_R = 34.0
_GREATER_TROCHANTER: Blob = (352, 528, 58, 36, 100)
_LESSER_TROCHANTER: Blob = (258, 642, 26, 17, 120)
_METAPHYSIS: list[Point] = [
    (260, 540),
    (300, 520),
    (330, 488),
    (372, 478),
    (392, 510),
    (394, 570),
    (384, 630),
    (372, 665),
    (292, 672),
    (262, 650),
    (268, 600),
]
_SHAFT: list[Point] = [
    (384, 610),
    (376, 720),
    (360, 860),
    (350, 1120),
    (268, 1120),
    (276, 860),
    (284, 720),
    (290, 650),
]
_CANAL: list[Point] = [
    (352, 720),
    (342, 860),
    (334, 1120),
    (286, 1120),
    (294, 860),
    (302, 720),
]
_SUPRA_ACETABULAR: Blob = (262, 372, 52, 36, 20)
_BRIM: list[Point] = [
    (104, 262),
    (114, 290),
    (132, 322),
    (156, 362),
    (175, 405),
    (183, 450),
    (178, 488),
    (156, 512),
    (118, 536),
    (74, 556),
    (32, 568),
    (12, 576),
]
_ILIOISCHIAL: list[Point] = [(168, 420), (178, 470), (188, 530), (206, 600)]
_TEARDROP: list[Point] = [(188, 468), (186, 510), (178, 528), (168, 514), (168, 480)]
_CREST: list[Point] = [
    (118, 186),
    (146, 140),
    (188, 106),
    (238, 90),
    (286, 96),
    (324, 119),
    (349, 156),
    (361, 200),
    (360, 238),
]

# lumbar spine: vertebral bodies (u half-width, v top, v bottom)
_VERTEBRAE = ((74, 26, 122), (80, 146, 232))
_PEDICLES: list[Blob] = [(48, 52, 12, 16, 0), (52, 170, 14, 17, 0)]
_SPINOUS: list[Blob] = [(0, 96, 10, 22, 0), (0, 207, 10, 22, 0)]
_TRANSVERSE = (((70, 66), (122, 60), 14.0), ((72, 182), (122, 198), 22.0))


def _pelvis_masks(size: tuple[int, int], fr: _Frame, blur: float) -> dict[str, FloatArray]:
    """Rasterise the bony and soft-tissue parts of an AP pelvis."""
    sc = fr.scale

    def body(d: ImageDraw.ImageDraw) -> None:
        half = _BODY_LATERAL + _BODY_MEDIAL
        d.polygon(fr.poly(half, -1) + fr.poly(half[::-1], 1), fill=255)

    def innominate(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_ILIUM), s), fill=255)
            d.polygon(fr.poly(_chaikin(_OBTURATOR), s), fill=0)

    def sacrum(d: ImageDraw.ImageDraw) -> None:
        d.polygon(_chaikin(fr.sym(_SACRUM_HALF), 2), fill=255)
        for blob in _COCCYX:
            d.polygon(fr.ellipse(blob, 1), fill=255)

    def foramina(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            for u, v, r in _SACRAL_FORAMINA:
                d.polygon(fr.ellipse((u, v, r, r * 1.1, 0), s), fill=255)

    def vertebrae(d: ImageDraw.ImageDraw) -> None:
        for hw, top, bottom in _VERTEBRAE:
            x0, y0 = fr.xy(hw, top, -1)
            x1, y1 = fr.xy(hw, bottom, 1)
            d.rounded_rectangle((x0, y0, x1, y1), radius=10 * sc, fill=255)

    def posterior(d: ImageDraw.ImageDraw) -> None:
        for blob in _SPINOUS:
            d.polygon(fr.ellipse(blob, 1), fill=255)
        for s in SIDES:
            for p0, p1, w in _TRANSVERSE:
                _stroke(d, fr.poly([p0, p1], s), w * sc)
            for blob in _PEDICLES:
                d.polygon(fr.ellipse(blob, s), outline=255, width=max(1, round(4 * sc)))

    def femur(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            u, v = HEAD_UV
            d.polygon(fr.ellipse((u, v, HEAD_R, HEAD_R, 0), s, n=96), fill=255)
            _stroke(d, fr.poly([HEAD_UV, _NECK_END], s), 2 * _NECK_R * sc)
            d.polygon(fr.poly(_chaikin(_METAPHYSIS), s), fill=255)
            d.polygon(fr.ellipse(_GREATER_TROCHANTER, s), fill=255)
            d.polygon(fr.ellipse(_LESSER_TROCHANTER, s), fill=255)
            d.polygon(fr.poly(_chaikin(_SHAFT, 2), s), fill=255)

    def head(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            u, v = HEAD_UV
            d.polygon(fr.ellipse((u, v, HEAD_R, HEAD_R, 0), s, n=96), fill=255)

    def canal(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_CANAL, 2), s), fill=255)

    def lines(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            _stroke(d, fr.poly(_BRIM, s), 5 * sc)
            _stroke(d, fr.poly(_ILIOISCHIAL, s), 4 * sc)
            _stroke(d, fr.poly(_TEARDROP, s), 5 * sc)
            _stroke(d, fr.poly(_arc_pts(u, v, HEAD_R + 7, 195, 302), s), 6 * sc)
            _stroke(d, fr.poly(_CREST, s), 7 * sc)

    def supra(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.ellipse(_SUPRA_ACETABULAR, s), fill=255)

    painters: dict[str, tuple[Painter, float]] = {
        "body": (body, blur * 2),
        "innominate": (innominate, blur),
        "sacrum": (sacrum, blur),
        "foramina": (foramina, blur * 1.5),
        "vertebrae": (vertebrae, blur),
        "posterior": (posterior, blur * 1.5),
        "femur": (femur, blur),
        "head": (head, blur),
        "canal": (canal, blur + 10 * sc),
        "lines": (lines, blur),
        "supra": (supra, blur + 14 * sc),
    }
    return {k: _mask(size, p, b) for k, (p, b) in painters.items()}


def _ho_blobs(severity: int, rng: np.random.Generator) -> tuple[list[Blob], list[Point]]:
    """Return new-bone blobs and arrow targets for one hip, in (u, v) units."""
    blobs: list[Blob] = []
    targets: list[Point] = []

    def jitter(u: float, v: float, a: float, b: float, ang: float, j: float) -> Blob:
        du, dv = rng.normal(0.0, j, 2)
        f = float(rng.uniform(0.85, 1.15))
        return (u + du, v + dv, a * f, b * f, ang + float(rng.normal(0, 12)))

    def cloud(core: Blob, satellites: int) -> None:
        blobs.append(core)
        u, v, a, b, _ = core
        for _ in range(satellites):
            t = rng.uniform(0, 2 * np.pi)
            r = rng.uniform(0.55, 0.95)
            blobs.append(
                (
                    u + r * a * math.cos(t),
                    v + r * b * math.sin(t),
                    a * rng.uniform(0.25, 0.45),
                    b * rng.uniform(0.25, 0.45),
                    float(rng.uniform(0, 180)),
                )
            )

    if severity == 1:
        for _ in range(int(rng.integers(2, 5))):
            blob = jitter(372, 445, rng.uniform(6, 12), rng.uniform(5, 10), rng.uniform(0, 180), 22)
            blobs.append(blob)
            targets.append((blob[0], blob[1]))
    elif severity == 2:
        cloud(jitter(326, 392, 24, 13, 50, 3), 2)
        cloud(jitter(344, 418, 15, 10, 60, 3), 1)
        cloud(jitter(378, 492, 22, 16, 100, 3), 2)
        cloud(jitter(372, 466, 13, 9, 100, 3), 1)
        lateral = jitter(408, 440, 22, 17, 80, 6)
        cloud(lateral, 3)
        targets += [(350, 420), (lateral[0], lateral[1])]
    elif severity == 3:
        for u, v, a, b, ang in (
            (330, 380, 42, 26, 50),
            (358, 422, 46, 36, 70),
            (378, 468, 44, 38, 90),
            (382, 512, 34, 30, 100),
            (418, 440, 30, 42, 80),
            (300, 352, 30, 20, 30),
        ):
            cloud(jitter(u, v, a, b, ang, 4), 3)
        targets += [(380, 440), (400, 500)]
    return blobs, targets


def _ho_mask(
    shape: tuple[int, int], fr: _Frame, severity: int, rng: np.random.Generator
) -> tuple[FloatArray, dict[int, list[Point]]]:
    """Rasterise new bone around both hips; return the mask and arrow targets."""
    blobs: list[Blob] = []
    targets: dict[int, list[Point]] = {}
    for s in SIDES:
        side_blobs, side_targets = _ho_blobs(severity, rng)
        for u, v, a, b, ang in side_blobs:
            x, y = fr.xy(u, v, s)
            blobs.append((x, y, a * fr.scale, b * fr.scale, ang if s > 0 else -ang))
        targets[s] = side_targets
    return _blob_mask(shape, blobs, rng, edge=1.2 + fr.scale), targets


# --------------------------------------------------------------------------
# arrows


def _arrow_pts(tip: Point, tail: Point, shaft: float, head: float, head_len: float) -> list[Point]:
    """Return the outline of a block arrow from tail to tip."""
    (tx, ty), (bx, by) = tip, tail
    length = math.hypot(tx - bx, ty - by)
    ux, uy = (tx - bx) / length, (ty - by) / length
    nx, ny = -uy, ux
    hx, hy = tx - ux * head_len, ty - uy * head_len
    return [
        (bx + nx * shaft, by + ny * shaft),
        (hx + nx * shaft, hy + ny * shaft),
        (hx + nx * head, hy + ny * head),
        (tx, ty),
        (hx - nx * head, hy - ny * head),
        (hx - nx * shaft, hy - ny * shaft),
        (bx - nx * shaft, by - ny * shaft),
    ]


def _draw_arrows(img: Image.Image, arrows: Sequence[tuple[Point, Point]]) -> Image.Image:
    """Draw anti-aliased white arrows with a dark outline onto an L image."""
    k = 3
    size = (img.width * k, img.height * k)
    outer = Image.new("L", size, 0)
    inner = Image.new("L", size, 0)
    do, di = ImageDraw.Draw(outer), ImageDraw.Draw(inner)
    for (tx, ty), (bx, by) in arrows:
        length = math.hypot(tx - bx, ty - by)
        ux, uy = (tx - bx) / length, (ty - by) / length
        tip, tail = (tx * k, ty * k), (bx * k, by * k)
        di.polygon(_arrow_pts(tip, tail, 3.0 * k, 9.0 * k, 20.0 * k), fill=255)
        o = 2.5 * k
        do.polygon(
            _arrow_pts(
                (tip[0] + ux * o * 1.9, tip[1] + uy * o * 1.9),
                (tail[0] - ux * o, tail[1] - uy * o),
                3.0 * k + o,
                9.0 * k + o * 1.6,
                20.0 * k + o * 1.2,
            ),
            fill=255,
        )
    a_out = np.asarray(outer.reduce(k), dtype=np.float32) / 255.0
    a_in = np.asarray(inner.reduce(k), dtype=np.float32) / 255.0
    base = np.asarray(img, dtype=np.float32) / 255.0
    base = base * (1.0 - a_out) + 0.04 * a_out
    base = base * (1.0 - a_in) + 1.0 * a_in
    return _finish(base.astype(np.float32))


def _arrow_specs(
    fr: _Frame,
    targets: dict[int, list[Point]],
    rng: np.random.Generator,
) -> list[tuple[Point, Point]]:
    """Choose two to four arrows (at least one per hip) aimed at the targets."""
    default = [(375.0, 445.0)]
    specs: list[tuple[Point, Point]] = []
    directions = ((1.0, -0.55), (1.0, 0.45), (0.75, -1.0))
    for s in SIDES:
        pts = targets.get(s) or default
        count = int(rng.integers(1, 3))
        order = rng.permutation(len(directions))
        for i in range(count):
            u, v = pts[i % len(pts)]
            du, dv = directions[int(order[i])]
            norm = math.hypot(du, dv)
            du, dv = du / norm, dv / norm
            gap, length = 52.0, 150.0
            tip = fr.xy(u + du * gap, v + dv * gap, s)
            tail = fr.xy(u + du * (gap + length), v + dv * (gap + length), s)
            specs.append((tip, tail))
    return specs


# --------------------------------------------------------------------------
# AP pelvis radiograph


def pelvis_radiograph(*, severity: int = 2, arrows: bool = False, seed: int = 0) -> Image.Image:
    """Render an AP pelvis radiograph with periarticular new bone."""
    severity = _check_int("severity", severity, SEVERITIES)
    arrows = _check_bool("arrows", arrows)
    seed = _check_seed(seed)
    width, height = 1024, 860
    shape = (height, width)
    fr = _Frame(cx=width / 2, top=0, scale=1.0)
    m = _pelvis_masks((width, height), fr, blur=1.4)
    trab = _texture(_rng(seed, 1), shape, 1.1, 3.5)
    trab_v = _texture(_rng(seed, 2), shape, (0.9, 2.6), 4.0)

    # soft tissue: thicker centrally, with a faint subcutaneous fat rim
    body = m["body"]
    thick = _blur(body, 60)
    atten = body * (0.22 + 0.62 * thick)

    # bowel gas over the flanks and the rectosigmoid
    g = _rng(seed, 3)
    gas_blobs: list[Blob] = []
    for _ in range(int(g.integers(3, 7))):
        u = float(g.uniform(-300, 300))
        v = float(g.uniform(20, 330)) if abs(u) > 140 else float(g.uniform(300, 430))
        gas_blobs.append(
            (width / 2 + u, v, float(g.uniform(14, 38)), float(g.uniform(10, 24)), float(g.uniform(0, 180)))
        )
    gas = _blur(_blob_mask(shape, gas_blobs, g, edge=3.0), 3)
    atten -= 0.16 * gas * (0.75 + 0.25 * np.clip(trab, -1, 1))

    # bones
    inn = m["innominate"]
    inn_edge = np.clip(2.0 * (1.0 - _blur(inn, 9)), 0, 1) * inn
    bone = inn * (0.26 + 0.05 * trab) + 0.30 * inn_edge
    bone += 0.28 * m["supra"] * inn + 0.34 * m["lines"]
    sac = m["sacrum"]
    bone += sac * (0.32 + 0.05 * trab) - 0.22 * m["foramina"] * sac
    bone += 0.2 * np.clip(2.0 * (1.0 - _blur(sac, 5)), 0, 1) * sac
    vert = m["vertebrae"]
    bone += vert * (0.34 + 0.05 * trab)
    bone += 0.3 * np.clip(2.2 * (1.0 - _blur(vert, 5)), 0, 1) * vert
    bone += 0.28 * m["posterior"]
    fem = m["femur"]
    fem_edge = np.clip(2.2 * (1.0 - _blur(fem, 7)), 0, 1) * fem
    canal = m["canal"]
    bone += fem * (0.44 + 0.06 * trab_v) + 0.36 * fem_edge
    bone += (
        0.34
        * fem
        * (1.0 - canal)
        * (1.0 - m["head"])
        * _blur((np.arange(height, dtype=np.float32)[:, None] > 600) * fem, 30)
    )
    bone -= 0.12 * canal

    # heterotopic new bone: zonal pattern with trabecular centre
    ho, targets = _ho_mask(shape, fr, severity, _rng(seed, 4))
    core, rim = _zonal(ho, 4.0)
    bone += core * (0.30 + 0.09 * trab) + rim * 0.62

    atten = atten + bone
    img = 1.0 - np.exp(-1.35 * np.clip(atten, 0, None))
    heel = 1.0 - 0.06 * (np.arange(height, dtype=np.float32)[:, None] / height)
    img = img * heel
    noise = _rng(seed, 5).standard_normal(shape, dtype=np.float32)
    img = 0.04 + 0.92 * img**1.15 + 0.014 * noise
    img = _blur(np.clip(img, 0, 1), 0.7)
    out = _finish(img)
    if arrows:
        out = _draw_arrows(out, _arrow_specs(fr, targets, _rng(seed, 6)))
    _text(out, (70, 40), "R", fill=235, size=28)
    return _label(out, fill=150)


# --------------------------------------------------------------------------
# axial CT


def _ct_window(hu: FloatArray, level: float = 200.0, width: float = 1200.0) -> FloatArray:
    """Map Hounsfield units through a display window to [0, 1]."""
    return np.clip((hu - (level - width / 2)) / width, 0, 1).astype(np.float32)


def pelvis_ct(*, severity: int = 2, level: str = "acetabulum", seed: int = 0) -> Image.Image:
    """Render an axial pelvis CT slice in a bone-weighted window."""
    severity = _check_int("severity", severity, SEVERITIES)
    level = _check_choice("level", level, CT_LEVELS)
    seed = _check_seed(seed)
    n = 512
    shape = (n, n)
    xs, ys = _grid(n, n)
    cx = n / 2
    trab = _texture(_rng(seed, 1), shape, 0.9, 3.0)
    neck = level == "femoral_neck"

    def mirror(fn: Callable[[int], FloatArray]) -> FloatArray:
        return np.maximum(fn(-1), fn(1))

    # body outline: pelvis with buttocks and a table underneath
    body = _ell(xs, ys, cx, 250, 200, 128, edge=1.5)
    body = np.maximum(body, mirror(lambda s: _ell(xs, ys, cx + s * 92, 300, 122, 92, s * 8, edge=1.5)))
    body = np.maximum(body, mirror(lambda s: _ell(xs, ys, cx + s * 150, 250, 74, 110, 0, edge=1.5)))
    cleft = _capsule(xs, ys, (cx, 372), (cx, 400), 2.5, edge=1.2)
    body = body * (1.0 - cleft)
    hu = np.full(shape, -1000.0, dtype=np.float32)
    fov = _ell(xs, ys, cx, cx, 250, 250, edge=1.0)
    hu = _over(hu, 1.0 - fov, -1024.0)
    table_y = 402.0 if not neck else 398.0
    table = np.clip(1.0 - np.abs(ys - table_y - 0.0008 * (xs - cx) ** 2) / 2.5, 0, 1)
    table += np.clip(1.0 - np.abs(ys - table_y - 14 - 0.0008 * (xs - cx) ** 2) / 2.0, 0, 1)
    table = table * (np.abs(xs - cx) < 205)
    hu = _over(hu, table.astype(np.float32), 80.0)
    inner = np.clip((_blur(body, 9.0) - 0.88) * 12.0, 0, 1) * body
    hu = _over(hu, body, -105.0)
    hu = _over(hu, inner, 45.0)

    # fat planes between muscle groups and pelvic fat
    g = _rng(seed, 2)
    planes = np.zeros(shape, dtype=np.float32)
    for s in SIDES:
        for p0, p1 in (
            ((60, 205), (100, 170)),
            ((150, 210), (205, 235)),
            ((150, 290), (200, 275)),
            ((70, 330), (140, 300)),
            ((160, 190), (190, 160)),
            ((110, 150), (150, 175)),
        ):
            j = g.normal(0, 3, 4)
            planes = np.maximum(
                planes,
                _capsule(
                    xs,
                    ys,
                    (cx + s * (p0[0] + j[0]), p0[1] + j[1]),
                    (cx + s * (p1[0] + j[2]), p1[1] + j[3]),
                    1.6,
                    edge=1.2,
                ),
            )
    hu = _over(hu, planes * inner, -95.0)
    pelvic_fat = _ell(xs, ys, cx, 262, 78, 105, edge=3.0)
    hu = _over(hu, pelvic_fat, -92.0)
    for s in SIDES:  # femoral vessels in the femoral triangle fat
        hu = _over(hu, _ell(xs, ys, cx + s * 92, 162, 22, 14, s * -20, edge=3), -90.0)
        hu = _over(hu, _ell(xs, ys, cx + s * 100, 160, 5.5, 5.5), 45.0)
        hu = _over(hu, _ell(xs, ys, cx + s * 86, 164, 6.5, 6.0), 40.0)
        hu = _over(hu, _ell(xs, ys, cx + s * 72, 164, 4.0, 3.5), 35.0)  # nodes
    if neck:
        hu = _over(hu, _ell(xs, ys, cx, 250, 20, 17, edge=2), 40.0)  # prostate
        for s in SIDES:  # ischioanal fat
            hu = _over(hu, _ell(xs, ys, cx + s * 40, 318, 28, 46, s * 20, edge=4), -100.0)
        rect = _ell(xs, ys, cx, 300, 15, 13, edge=1.5)
        hu = _over(hu, rect, 35.0)
    else:
        bladder = _ell(xs, ys, cx, 206, 58, 44, edge=1.5)
        hu = _over(hu, bladder, 8.0)
        hu = _over(hu, _ell(xs, ys, cx, 206, 58, 44, edge=1.5) - _ell(xs, ys, cx, 206, 55, 41, edge=1.5), 35.0)
        rect = _ell(xs, ys, cx, 318, 24, 18, edge=1.5)
        hu = _over(hu, rect, 35.0)
        gas_x = float(g.uniform(-8, 8))
        hu = _over(hu, _ell(xs, ys, cx + gas_x, 316, 9, 6, edge=1.5), -900.0)

    # bones
    cortex_hu, marrow_hu = 1250.0, 260.0

    def bone(mask: FloatArray, rim: float = 2.5, cortex: float = cortex_hu) -> None:
        nonlocal hu
        inner_b = _blur(mask, rim)
        shell = mask * np.clip(2.3 * (1.0 - inner_b) - 0.1, 0, 1)
        hu = _over(hu, mask, marrow_hu + 60.0 * trab)
        hu = _over(hu, shell, cortex)

    if neck:
        femur = mirror(
            lambda s: np.maximum.reduce(
                [
                    _ell(xs, ys, cx + s * 112, 240, 22, 22, edge=1.2),
                    _capsule(xs, ys, (cx + s * 112, 240), (cx + s * 160, 262), 19, edge=1.2),
                    _ell(xs, ys, cx + s * 172, 268, 30, 36, s * -15, edge=1.2),
                ]
            )
        )
        bone(femur)
        pubis = mirror(
            lambda s: np.maximum(
                _ell(xs, ys, cx + s * 20, 190, 17, 20, s * 10, edge=1.2),
                _capsule(xs, ys, (cx + s * 24, 196), (cx + s * 66, 214), 9, edge=1.2),
            )
        )
        bone(pubis)
        ischium = mirror(
            lambda s: np.maximum(
                _ell(xs, ys, cx + s * 80, 300, 20, 28, s * -25, edge=1.2),
                _capsule(xs, ys, (cx + s * 88, 282), (cx + s * 82, 262), 11, edge=1.2),
            )
        )
        bone(ischium)
    else:
        heads = mirror(lambda s: _ell(xs, ys, cx + s * 116, 244, 30, 30, edge=1.2))
        bone(heads)
        fovea = mirror(lambda s: _ell(xs, ys, cx + s * 88, 244, 5, 4, edge=1.2))
        hu = _over(hu, fovea * heads, 40.0)
        cup = mirror(
            lambda s: np.clip(
                _ell(xs, ys, cx + s * 114, 244, 50, 46, edge=1.2)
                - _ell(xs, ys, cx + s * 116, 244, 34, 34, edge=1.2)
                - _ell(xs, ys, cx + s * 170, 244, 52, 80, edge=1.2),
                0,
                1,
            )
        )
        columns = mirror(
            lambda s: np.maximum(
                _capsule(xs, ys, (cx + s * 92, 206), (cx + s * 62, 190), 11, edge=1.2),
                _capsule(xs, ys, (cx + s * 88, 282), (cx + s * 66, 322), 12, edge=1.2),
            )
        )
        bone(np.maximum(cup, columns))
        coccyx = _ell(xs, ys, cx, 368, 10, 8, edge=1.2)
        bone(coccyx, rim=1.5)

    # heterotopic new bone around both hips
    ho_rng = _rng(seed, 3)
    sites = {
        1: [((166, 200), 6, 8), ((190, 250), 5, 6), ((168, 300), 4, 6)],
        2: [((168, 196), 13, 18), ((196, 246), 11, 16), ((170, 306), 10, 13)],
        3: [((162, 196), 22, 26), ((200, 248), 20, 26), ((176, 300), 18, 24), ((140, 170), 16, 20)],
    }.get(severity, [])
    if neck:
        sites = [((u + 12, v + 8), r0 * 1.05, r1 * 1.05) for (u, v), r0, r1 in sites]
    blobs: list[Blob] = []
    for s in SIDES:
        for (u, v), r0, r1 in sites:
            r = float(ho_rng.uniform(r0, r1))
            x = cx + s * (u + float(ho_rng.normal(0, 3)))
            y = v + float(ho_rng.normal(0, 3))
            blobs.append((x, y, r, r * float(ho_rng.uniform(0.7, 0.95)), float(ho_rng.uniform(0, 180))))
            if severity >= 2:
                for _ in range(2):
                    t = float(ho_rng.uniform(0, 2 * np.pi))
                    blobs.append(
                        (
                            x + 0.8 * r * math.cos(t),
                            y + 0.8 * r * math.sin(t),
                            r * 0.4,
                            r * 0.35,
                            float(ho_rng.uniform(0, 180)),
                        )
                    )
    if blobs:
        ho = _blob_mask(shape, blobs, ho_rng, edge=1.2)
        core, rim = _zonal(ho, 2.5)
        hu = _over(hu, core, 170.0 + 70.0 * trab)
        hu = _over(hu, rim, 1000.0)

    noise = _rng(seed, 4).standard_normal(shape, dtype=np.float32)
    noise = (_blur(0.5 + 0.12 * noise, 0.8) - 0.5) * 8.0
    hu = hu + 28.0 * noise * fov
    img = _blur(_ct_window(hu, 150.0, 1100.0), 0.5)
    out = _finish(img)
    return _label(out, fill=150)


# --------------------------------------------------------------------------
# coronal MR


_MR_SIGNAL: dict[str, dict[str, float]] = {
    "T1": {
        "fat": 0.90,
        "muscle": 0.33,
        "cortex": 0.03,
        "marrow": 0.80,
        "fluid": 0.10,
        "cartilage": 0.42,
        "oedema": 0.27,
    },
    "STIR": {
        "fat": 0.07,
        "muscle": 0.22,
        "cortex": 0.02,
        "marrow": 0.13,
        "fluid": 0.95,
        "cartilage": 0.45,
        "oedema": 0.78,
    },
}


def pelvis_mr(*, severity: int = 2, sequence: str = "T1", seed: int = 0) -> Image.Image:
    """Render a coronal MR slice through both hips."""
    severity = _check_int("severity", severity, SEVERITIES)
    sequence = _check_choice("sequence", sequence, MR_SEQUENCES)
    seed = _check_seed(seed)
    sig = _MR_SIGNAL[sequence]
    n = 512
    shape = (n, n)
    size = (n, n)
    fr = _Frame(cx=n / 2, top=-30, scale=0.52)
    xs, ys = _grid(n, n)
    trab = _texture(_rng(seed, 1), shape, 1.0, 3.0)

    def body(d: ImageDraw.ImageDraw) -> None:
        half = _BODY_LATERAL + _BODY_MEDIAL
        d.polygon(fr.poly(half, -1) + fr.poly(half[::-1], 1), fill=255)

    silhouette = _mask(size, body, 1.2)
    inner = np.clip((_blur(silhouette, 11.0) - 0.9) * 14.0, 0, 1) * silhouette
    img = np.zeros(shape, dtype=np.float32)
    img = _over(img, silhouette, sig["fat"])
    img = _over(img, inner, sig["muscle"])

    # intermuscular fat planes and pelvic fat
    planes_uv = (
        [(250, 250), (300, 330), (330, 420), (340, 470)],
        [(360, 250), (395, 380), (415, 560), (410, 700)],
        [(300, 580), (250, 640), (220, 760), (200, 900)],
        [(130, 640), (160, 760), (170, 900)],
        [(330, 680), (340, 800), (345, 900)],
        [(200, 180), (230, 260), (250, 350)],
    )

    def planes(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            for line in planes_uv:
                _stroke(d, fr.poly(line, s), 3.0)

    img = _over(img, _mask(size, planes, 1.0) * inner, sig["fat"])

    def pelvic_fat(d: ImageDraw.ImageDraw) -> None:
        half = [(0, 260), (110, 300), (150, 380), (160, 470), (140, 580), (80, 660), (0, 690)]
        d.polygon(_chaikin(fr.sym(half), 3), fill=255)

    img = _over(img, _mask(size, pelvic_fat, 2.0), sig["fat"])
    bladder = _ell(xs, ys, fr.cx, fr.top + 560 * fr.scale, 62, 44, edge=1.5)
    img = _over(img, bladder, sig["fluid"])

    # bones: a coronal slice of the ilium plus the proximal femora
    ilium_half: list[Point] = [
        (150, 430),
        (176, 380),
        (200, 320),
        (236, 250),
        (282, 180),
        (330, 120),
        (352, 118),
        (340, 170),
        (318, 240),
        (312, 330),
        (302, 390),
        (284, 414),
    ]

    def ilium(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(ilium_half), s), fill=255)
            d.polygon(
                fr.poly(
                    _chaikin([(160, 430), (184, 470), (192, 540), (190, 600), (176, 600), (170, 530), (150, 470)]), s
                ),
                fill=255,
            )
            d.polygon(fr.poly(_chaikin([(110, 610), (200, 630), (215, 680), (160, 700), (100, 660)]), s), fill=255)

    def socket(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            d.polygon(fr.ellipse((u, v, HEAD_R + 9, HEAD_R + 9, 0), s, n=96), fill=255)

    def femur(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            u, v = HEAD_UV
            d.polygon(fr.ellipse((u, v, HEAD_R, HEAD_R, 0), s, n=96), fill=255)
            _stroke(d, fr.poly([HEAD_UV, _NECK_END], s), 2 * _NECK_R * fr.scale)
            d.polygon(fr.poly(_chaikin(_METAPHYSIS), s), fill=255)
            d.polygon(fr.ellipse(_GREATER_TROCHANTER, s), fill=255)
            d.polygon(fr.poly(_chaikin(_SHAFT, 2), s), fill=255)

    sock = _mask(size, socket, 1.0)
    il = _mask(size, ilium, 1.0) * (1.0 - sock)
    fem = _mask(size, femur, 1.0)
    joint = np.clip(sock - fem, 0, 1)
    img = _over(img, joint * inner, sig["cartilage"])
    img = _over(img, np.clip(joint - 0.0, 0, 1) * _blur(joint, 1.5), sig["fluid"] * 0.7 + sig["cartilage"] * 0.3)
    for mask, rim_w in ((il, 2.2), (fem, 2.6)):
        shell = mask * np.clip(2.4 * (1.0 - _blur(mask, rim_w)) - 0.1, 0, 1)
        img = _over(img, mask, sig["marrow"] * (1.0 + 0.08 * trab))
        img = _over(img, shell, sig["cortex"])

    def canal(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_SHAFT, 2), s), fill=255)

    shaft = _mask(size, canal, 1.0)
    shaft_cortex = shaft * np.clip(2.4 * (1.0 - _blur(shaft, 5.0)) - 0.1, 0, 1)
    shaft_cortex *= np.clip((ys - (fr.top + 640 * fr.scale)) / 30.0, 0, 1)
    img = _over(img, shaft_cortex, sig["cortex"])

    def physis(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            _stroke(d, fr.poly(_arc_pts(u + 95, v + 40, 90, 168, 232), s), 2.0)

    img = _over(img, _mask(size, physis, 0.8) * fem, sig["cortex"] * 0.5 + sig["marrow"] * 0.5)

    # heterotopic new bone: dark rim, marrow centre, oedema in STIR
    ho, _targets = _ho_mask(shape, fr, severity, _rng(seed, 3))
    ho = ho * (1.0 - il) * (1.0 - fem)
    if severity:
        core, rim = _zonal(ho, 2.5)
        halo = np.clip(_blur(ho, 9.0) * 1.8 - ho, 0, 1) * inner
        oedema = (0.15 + 0.22 * severity) * halo
        img = _over(img, oedema, sig["oedema"])
        centre = sig["marrow"] * (1.0 + 0.12 * trab)
        if sequence == "STIR":
            centre = centre + 0.09 * severity * np.clip(0.6 + 0.5 * trab, 0, 1)
        img = _over(img, core, centre)
        img = _over(img, rim, sig["cortex"])

    # coil shading, Rician noise and slight blur
    shading = 0.82 + 0.25 * (np.abs(xs - n / 2) / (n / 2)) ** 2
    shading = shading * (1.0 - 0.18 * ((ys - n / 2) / (n / 2)) ** 2)
    img = _blur(np.clip(img * shading, 0, 1), 0.9)
    noise = _rng(seed, 4).standard_normal((2, n, n), dtype=np.float32) * 0.022
    img = np.sqrt((img + noise[0]) ** 2 + noise[1] ** 2)
    out = _finish(np.clip(img * 1.05, 0, 1))
    return _label(out, fill=150)


# --------------------------------------------------------------------------
# bone scintigraphy


def _counts_to_image(counts: FloatArray, saturation: float) -> FloatArray:
    """Display counts the conventional way: black counts on white."""
    return (1.0 - np.clip(counts / saturation, 0, 1) ** 0.8).astype(np.float32)


def _pelvis_uptake(size: tuple[int, int], fr: _Frame, blur: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return skeletal uptake, soft-tissue outline and bladder maps of a pelvis."""
    m = _pelvis_masks(size, fr, blur)
    inn = m["innominate"]
    edge = np.clip(2.0 * (1.0 - _blur(inn, max(1.0, 8 * fr.scale))), 0, 1) * inn
    skel = 0.45 * inn + 0.35 * edge + 0.55 * m["sacrum"] + 0.6 * m["vertebrae"]
    skel += 0.3 * m["supra"] * inn + 0.3 * m["posterior"]
    fem = m["femur"]
    prox = fem * (1.0 - m["canal"])
    skel += 0.55 * prox + 0.25 * fem
    si = np.zeros_like(inn)
    xs, ys = _grid(*size)
    for s in SIDES:
        x0, y0 = fr.xy(112, 250, s)
        x1, y1 = fr.xy(104, 410, s)
        si = np.maximum(si, _capsule(xs, ys, (x0, y0), (x1, y1), 10 * fr.scale + 1))
    skel += 0.5 * si
    bx, by = fr.xy(0, 600, 1)
    bladder = _ell(xs, ys, bx, by, 95 * fr.scale, 70 * fr.scale, edge=2.0)
    return skel.astype(np.float32), m["body"], bladder


def _hip_activity(
    shape: tuple[int, int],
    fr: _Frame,
    activity: int,
    rng: np.random.Generator,
    spread: float = 1.0,
) -> FloatArray:
    """Return extra uptake lateral and superior to both hips."""
    if activity == 0:
        return np.zeros(shape, dtype=np.float32)
    ho, _targets = _ho_mask(shape, fr, activity, rng)
    xs, ys = _grid(shape[1], shape[0])
    halo = np.zeros(shape, dtype=np.float32)
    for s in SIDES:
        x, y = fr.xy(370, 450, s)
        r = (70 + 25 * activity) * fr.scale * spread
        halo = np.maximum(halo, _ell(xs, ys, x, y, r, r * 1.3, 0, edge=r * 0.6))
    return (ho * (0.6 + 0.3 * activity) + halo * 0.25 * activity).astype(np.float32)


def _skeleton(size: tuple[int, int], posterior: bool) -> tuple[FloatArray, FloatArray]:
    """Return whole-body skeletal uptake and body-outline maps for one view."""
    w, h = size
    cx = w / 2
    k = h / 930.0
    sgn = -1 if posterior else 1

    def p(u: float, v: float, s: int = 1) -> Point:
        return (cx + s * sgn * u * k, 12 + v * k)

    def strokes(lines: Sequence[tuple[Sequence[Point], float]]) -> Painter:
        def paint(d: ImageDraw.ImageDraw) -> None:
            for s in SIDES:
                for pts, width in lines:
                    _stroke(d, [p(u, v, s) for u, v in pts], width * k)

        return paint

    def blobs(items: Sequence[Blob], mirror: bool = True) -> Painter:
        def paint(d: ImageDraw.ImageDraw) -> None:
            for s in SIDES if mirror else (1,):
                for u, v, a, b, ang in items:
                    pts = _ellipse_pts(u, v, a, b, ang)
                    d.polygon([p(x, y, s) for x, y in pts], fill=255)

        return paint

    def outline(d: ImageDraw.ImageDraw) -> None:
        half = [
            (0, 0),
            (40, 8),
            (54, 50),
            (48, 100),
            (30, 135),
            (32, 160),
            (95, 172),
            (125, 190),
            (132, 240),
            (140, 330),
            (150, 440),
            (162, 520),
            (160, 560),
            (140, 560),
            (130, 470),
            (118, 360),
            (110, 300),
            (112, 420),
            (118, 470),
            (108, 620),
            (92, 700),
            (86, 880),
            (96, 920),
            (60, 922),
            (56, 880),
            (50, 700),
            (30, 560),
            (0, 540),
        ]
        d.polygon(_chaikin([p(u, v, -1) for u, v in half] + [p(u, v, 1) for u, v in reversed(half)], 2), fill=255)

    skull_ring = blobs([(0, 60, 52, 62, 0)], mirror=False)
    skull_in = blobs([(0, 58, 44, 54, 0)], mirror=False)
    parts: list[tuple[float, Painter]] = [
        (0.55, skull_ring),
        (-0.35, skull_in),
        (0.35, blobs([(0, 105, 30, 20, 0)], mirror=False)),  # face / mandible
        (0.55, strokes([([(0, 132), (0, 310)], 14)])),
        (0.75 if posterior else 0.5, strokes([([(0, 310), (0, 470)], 22)])),
        (0.55, strokes([([(0, 470), (0, 520)], 26)])),  # lumbosacral
        (0.45 if not posterior else 0.1, strokes([([(0, 190), (0, 290)], 12)])),
        (0.55, strokes([([(14, 178), (60, 170), (100, 176)], 8)])),  # clavicles
        (0.75, blobs([(110, 188, 14, 14, 0)])),  # shoulders
        (0.45 if posterior else 0.22, blobs([(78, 225, 30, 42, 10)])),  # scapulae
        (0.4, strokes([([(112, 195), (122, 300), (126, 345)], 11)])),  # humeri
        (0.6, blobs([(127, 352, 10, 9, 0), (150, 455, 9, 8, 0)])),  # elbow, wrist
        (0.35, strokes([([(128, 355), (140, 400), (150, 450)], 9)])),  # forearm
        (0.4, strokes([([(150, 460), (154, 500), (156, 525)], 11)])),  # hand
        (0.45, strokes([([(96, 560), (92, 660), (86, 720)], 15)])),  # femora
        (0.8, blobs([(84, 735, 18, 14, 0)])),  # knees
        (0.45, strokes([([(82, 750), (78, 840), (74, 890)], 12)])),  # tibiae
        (0.65, blobs([(74, 900, 12, 10, 0), (80, 918, 14, 6, 0)])),  # ankles, feet
    ]
    ribs: list[tuple[Sequence[Point], float]] = []
    for i in range(10):
        v = 190 + 15 * i
        reach = 70 + 14 * math.sin(math.pi * min(i, 8) / 9)
        ribs.append(([(8, v), (reach * 0.6, v - 8), (reach, v + 10), (reach * 0.95, v + 30)], 4.5))
    parts.append((0.32 if not posterior else 0.4, strokes(ribs)))
    if posterior:
        parts.append((0.28, blobs([(40, 380, 14, 24, -10)])))  # kidneys

    skel = np.zeros((h, w), dtype=np.float32)
    for weight, paint in parts:
        skel += weight * _mask(size, paint, 1.2)
    fr = _Frame(cx=cx, top=12 + 385 * k, scale=0.225 * k)
    pelvis, _body, bladder = _pelvis_uptake(size, fr, 1.0)
    yy = np.arange(h, dtype=np.float32)[:, None]
    pelvis = pelvis * (yy < 12 + 610 * k)
    skel += 0.9 * pelvis + (1.6 if not posterior else 1.1) * bladder
    return skel, _mask(size, outline, 3.0)


def bone_scan(*, phase: str = "delayed", activity: int = 2, seed: int = 0) -> Image.Image:
    """Render a three-phase bone scan image with hip uptake."""
    phase = _check_choice("phase", phase, SCAN_PHASES)
    activity = _check_int("activity", activity, SEVERITIES)
    seed = _check_seed(seed)
    noise_rng = _rng(seed, 7)
    if phase == "flow":
        return _bone_scan_flow(activity, seed, noise_rng)
    if phase == "blood_pool":
        return _bone_scan_pool(activity, seed, noise_rng)
    return _bone_scan_delayed(activity, seed, noise_rng)


def _vessels(size: tuple[int, int], fr: _Frame) -> FloatArray:
    """Return the aorta, iliac and femoral arteries of an anterior pelvis."""

    def paint(d: ImageDraw.ImageDraw) -> None:
        _stroke(d, fr.poly([(12, -40), (12, 110)], 1), 24 * fr.scale)
        for s in SIDES:
            _stroke(
                d,
                fr.poly(
                    [(12, 110), (70, 200), (120, 300), (160, 420), (200, 520), (220, 620), (250, 760), (275, 900)], s
                ),
                13 * fr.scale,
            )
            _stroke(d, fr.poly([(70, 200), (80, 300), (70, 380)], s), 9 * fr.scale)

    return _mask(size, paint, 2.0 * fr.scale + 0.5)


def _bone_scan_flow(activity: int, seed: int, noise_rng: np.random.Generator) -> Image.Image:
    """Render the dynamic flow montage of eight anterior pelvis frames."""
    tile = 256
    size = (tile, tile)
    fr = _Frame(cx=tile / 2, top=18, scale=0.27)
    skel, body, bladder = _pelvis_uptake(size, fr, 2.0)
    body = _blur(body, 3.0)
    vessels = _vessels(size, fr)
    hips = _blur(_hip_activity((tile, tile), fr, activity, _rng(seed, 3)), 2.5)
    canvas = np.ones((2 * tile, 4 * tile), dtype=np.float32)
    for i in range(8):
        t = i + 0.5
        arterial = (t / 2.2) ** 2 * math.exp(2.0 - t / 1.1) if i > 0 else 0.05
        tissue = 0.25 + 0.12 * i
        lam = 14.0 * (
            arterial * vessels + tissue * body * 0.35 + tissue * (0.6 * hips + 0.05 * skel) + 0.02 * i * bladder
        )
        counts = noise_rng.poisson(np.clip(lam, 0, None)).astype(np.float32)
        frame = _counts_to_image(_blur(counts / 20.0, 1.0) * 20.0, 14.0)
        r, c = divmod(i, 4)
        canvas[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = frame
    canvas[:, tile::tile][:, :3] = 0.8
    canvas[tile, :] = 0.8
    for c in range(1, 4):
        canvas[:, c * tile] = 0.8
    out = _finish(canvas)
    for i in range(8):
        r, c = divmod(i, 4)
        _text(out, (c * tile + 6, r * tile + 4), str(i + 1), fill=40, size=12)
    return _label(out, fill=110)


def _bone_scan_pool(activity: int, seed: int, noise_rng: np.random.Generator) -> Image.Image:
    """Render a single anterior blood-pool image of the pelvis."""
    n = 512
    size = (n, n)
    fr = _Frame(cx=n / 2, top=20, scale=0.52)
    skel, body, bladder = _pelvis_uptake(size, fr, 3.0)
    body = _blur(body, 5.0)
    vessels = _vessels(size, fr)
    hips = _blur(_hip_activity((n, n), fr, activity, _rng(seed, 3), spread=1.6), 8.0)
    lam = 40.0 * (0.35 * body + 0.45 * vessels + 0.08 * skel + 0.9 * hips + 0.5 * bladder)
    counts = noise_rng.poisson(np.clip(lam, 0, None)).astype(np.float32)
    img = _counts_to_image(_blur(counts / 60.0, 1.4) * 60.0, 42.0)
    out = _finish(img)
    _text(out, (10, 8), "BLOOD POOL  ANT", fill=40, size=12)
    return _label(out, fill=110)


def _bone_scan_delayed(activity: int, seed: int, noise_rng: np.random.Generator) -> Image.Image:
    """Render anterior and posterior whole-body views plus a pelvic spot view."""
    panel_w, height = 300, 960
    spot = 560
    width = 2 * panel_w + spot + 40
    canvas = np.ones((height, width), dtype=np.float32)
    for j, posterior in enumerate((False, True)):
        skel, outline = _skeleton((panel_w, height), posterior)
        k = height / 930.0
        fr = _Frame(cx=panel_w / 2, top=12 + 385 * k, scale=0.225 * k)
        hips = _hip_activity((height, panel_w), fr, activity, _rng(seed, 3 + j))
        lam = 60.0 * (skel + 0.04 * outline + 1.1 * _blur(hips, 1.2))
        counts = noise_rng.poisson(np.clip(lam, 0, None)).astype(np.float32)
        view = _counts_to_image(_blur(counts / 120.0, 0.8) * 120.0, 75.0)
        canvas[:, j * panel_w : (j + 1) * panel_w] = view
    size = (spot, spot)
    fr = _Frame(cx=spot / 2, top=40, scale=0.56)
    skel, body, bladder = _pelvis_uptake(size, fr, 3.0)
    hips = _blur(_hip_activity((spot, spot), fr, activity, _rng(seed, 5)), 3.0)
    lam = 80.0 * (0.9 * skel + 0.04 * _blur(body, 4.0) + 1.1 * hips + 1.6 * bladder)
    counts = noise_rng.poisson(np.clip(lam, 0, None)).astype(np.float32)
    view = _counts_to_image(_blur(counts / 150.0, 1.1) * 150.0, 95.0)
    x0, y0 = 2 * panel_w + 20, (height - spot) // 2
    canvas[y0 : y0 + spot, x0 : x0 + spot] = view
    canvas[y0 - 1, x0 : x0 + spot] = 0.7
    canvas[y0 + spot, x0 : x0 + spot] = 0.7
    canvas[y0 : y0 + spot, x0 - 1] = 0.7
    canvas[y0 : y0 + spot, x0 + spot] = 0.7
    canvas[:, panel_w] = np.minimum(canvas[:, panel_w], 0.85)
    out = _finish(canvas)
    _text(out, (8, 8), "ANT", fill=40, size=13)
    _text(out, (panel_w + 8, 8), "POST", fill=40, size=13)
    _text(out, (x0 + 8, y0 + 8), "ANT PELVIS", fill=40, size=13)
    return _label(out, fill=110)


# --------------------------------------------------------------------------
# registry


PHANTOMS: dict[str, Callable[..., Image.Image]] = {
    "pelvis_radiograph": pelvis_radiograph,
    "pelvis_ct": pelvis_ct,
    "pelvis_mr": pelvis_mr,
    "bone_scan": bone_scan,
}


def render(name: str, **options: object) -> Image.Image:
    """Render the named phantom deterministically."""
    factory = PHANTOMS.get(name) if isinstance(name, str) else None
    if factory is None:
        raise PhantomError(f"unknown phantom {name!r}; choose from {sorted(PHANTOMS)}")
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise PhantomError(f"bad option for {name!r}: {exc}") from exc
    return factory(**options)
