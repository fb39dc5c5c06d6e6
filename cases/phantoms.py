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
Target = tuple[float, float, float]  # u, v and how far an arrow tip stays from there

LABEL = "SYNTHETIC"
LABEL_ON_DARK = (175, 0)  # text and outline grey levels on dark images
LABEL_ON_LIGHT = (70, 255)  # ... and on white-background nuclear medicine images
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
    return np.asarray(_blur_image(img, radius), dtype=np.float32) / np.float32(255.0)


def _blur_image(img: Image.Image, radius: float | tuple[float, float]) -> Image.Image:
    """Gaussian-blur an 8-bit image, working at reduced size for wide kernels."""
    smallest = min(radius) if isinstance(radius, tuple) else radius
    factor = min(int(smallest // 4), 8)
    if factor < 2:
        return img.filter(ImageFilter.GaussianBlur(radius))
    scaled = tuple(r / factor for r in radius) if isinstance(radius, tuple) else radius / factor
    small = img.reduce(factor).filter(ImageFilter.GaussianBlur(scaled))
    return small.resize(img.size, Image.Resampling.BILINEAR)


def _mask(size: tuple[int, int], paint: Painter, blur: float = 1.0) -> FloatArray:
    """Rasterise drawing commands into a soft [0, 1] mask."""
    img = Image.new("L", size, 0)
    paint(ImageDraw.Draw(img))
    if blur > 0:
        img = _blur_image(img, blur)
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


def _texture(
    rng: np.random.Generator, shape: tuple[int, int], fine: float | tuple[float, float], coarse: float
) -> FloatArray:
    """Return unit-variance band-pass noise for trabecular texture."""
    h, w = shape
    step = 2 if (min(fine) if isinstance(fine, tuple) else fine) >= 1.4 else 1
    noise = rng.standard_normal((-(-h // step), -(-w // step)), dtype=np.float32)
    small_fine = tuple(r / step for r in fine) if isinstance(fine, tuple) else fine / step
    a = _blur(0.5 + 0.2 * noise, small_fine)
    t = a - _blur(a, coarse / step)
    t = (t / (float(t.std()) + 1e-6)).astype(np.float32)
    if step > 1:
        t = np.asarray(Image.fromarray(t).resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    return t


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
    ks = np.arange(2, 5, dtype=np.float32)
    for cx, cy, a, b, angle in blobs:
        amps = rng.uniform(0.0, 0.12, ks.size).astype(np.float32) / (ks - 1) ** 0.5
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


def _label(img: Image.Image, *, light: bool = False) -> Image.Image:
    """Burn the small outlined synthetic-data label into the bottom-right corner."""
    fill, outline = LABEL_ON_LIGHT if light else LABEL_ON_DARK
    d = ImageDraw.Draw(img)
    font = _font(11)
    left, _top, right, bottom = d.textbbox((0, 0), LABEL, font=font, stroke_width=1)
    xy = (img.width - (right - left) - 5 - left, img.height - bottom - 4)
    d.text(xy, LABEL, fill=fill, font=font, stroke_width=1, stroke_fill=outline)
    return img


def _text(img: Image.Image, xy: Point, text: str, fill: int, size: int = 11) -> None:
    """Draw a small annotation such as a view or frame label."""
    ImageDraw.Draw(img).text(xy, text, fill=fill, font=_font(size))


def _finish(a: FloatArray) -> Image.Image:
    """Convert a [0, 1] float image into an 8-bit greyscale Pillow image."""
    return Image.fromarray(_to_u8(a))


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

# Half-pelvis outlines in radiograph pixels: u is the distance from the
# midline, v runs caudally from the top of the AP radiograph.
# fmt: off
_BODY_LATERAL: list[Point] = [
    (392, -40), (396, 100), (404, 220), (424, 340), (446, 450), (456, 540),
    (452, 630), (440, 760), (430, 900), (424, 1160),
]
_BODY_MEDIAL: list[Point] = [(0, 1160)]
_ILIUM: list[Point] = [
    (96, 236), (102, 204), (122, 164), (156, 126), (200, 100), (246, 88),
    (290, 92), (326, 108), (350, 136), (362, 170), (358, 204), (346, 226),
    (328, 244), (318, 266), (320, 290), (316, 306), (302, 334), (292, 368),
    (288, 404), (284, 450),
    (274, 500), (260, 540), (251, 580), (246, 625), (240, 668), (228, 700),
    (205, 716), (172, 718), (138, 707), (98, 690), (58, 676), (24, 666),
    (9, 652), (9, 584), (30, 571), (72, 560), (116, 540), (154, 516),
    (176, 490), (180, 452), (170, 408), (150, 364), (126, 326), (108, 292),
]
_OBTURATOR: list[Point] = [
    (112, 578), (150, 558), (185, 550), (205, 567), (212, 610), (205, 655),
    (185, 680), (150, 682), (115, 662), (97, 632), (98, 598),
]
_SACRUM_HALF: list[Point] = [
    (0, 250), (62, 247), (92, 252), (112, 262), (120, 280), (117, 310),
    (110, 350), (102, 392), (92, 430), (74, 466), (52, 498), (32, 524),
    (16, 544), (0, 550),
]
_SACRAL_FORAMINA = ((47, 296, 9.5), (45, 340, 8.5), (41, 383, 7.5), (34, 424, 6.0))
_COCCYX: list[Blob] = [(0, 563, 9, 7, 0), (0, 580, 7, 6, 0), (0, 595, 5, 4.5, 0)]
_SI_JOINT: list[Point] = [(100, 246), (106, 290), (104, 340), (98, 390), (90, 428)]

HEAD_UV: Point = (240.0, 470.0)
HEAD_R = 60.0
_GREATER_TROCHANTER: Blob = (368, 505, 44, 28, 80)
_PROXIMAL_FEMUR: list[Point] = [
    (286, 431), (310, 451), (330, 470), (342, 461), (356, 452), (376, 460),
    (390, 482), (396, 520), (396, 562), (390, 620), (382, 700), (372, 860),
    (364, 1160), (290, 1160), (296, 860), (302, 720), (304, 676), (292, 666),
    (272, 658), (262, 646), (268, 630), (286, 618), (292, 598), (288, 572),
    (278, 546), (268, 522), (240, 470),
]
_SHAFT: list[Point] = [
    (394, 610), (382, 700), (372, 860), (364, 1160), (290, 1160), (296, 860),
    (302, 720), (304, 676), (300, 610),
]
_CANAL: list[Point] = [
    (360, 690), (353, 860), (347, 1160), (309, 1160), (314, 860), (320, 690),
]
_COMPRESSIVE: list[Point] = [(300, 620), (284, 560), (262, 500), (246, 440)]
_TENSILE: list[Point] = [(380, 610), (352, 540), (312, 486), (262, 470), (222, 500)]
_SUPRA_ACETABULAR: Blob = (262, 378, 50, 32, 15)
_PILLAR: list[Point] = [(316, 130), (290, 240), (268, 360)]
_BRIM: list[Point] = [
    (98, 262), (108, 292), (126, 326), (150, 364), (170, 408), (180, 452),
    (176, 490), (154, 516), (116, 540), (72, 560), (30, 571), (12, 578),
]
_ILIOISCHIAL: list[Point] = [(160, 400), (170, 460), (184, 520), (216, 572), (228, 620)]
_TEARDROP: list[Point] = [(176, 466), (172, 506), (163, 522), (154, 508), (155, 476)]
_POSTERIOR_WALL: list[Point] = [(290, 412), (296, 470), (284, 520), (256, 548)]
_ANTERIOR_WALL: list[Point] = [(268, 430), (246, 470), (222, 506), (200, 520)]
_CREST: list[Point] = [
    (102, 204), (122, 164), (156, 126), (200, 100), (246, 88), (290, 92),
    (326, 108), (350, 136), (362, 170), (358, 204), (346, 226),
]
_VERTEBRA_HALVES: list[list[Point]] = [
    [(0, 26), (68, 26), (78, 30), (72, 52), (68, 76), (72, 102), (80, 120),
     (70, 124), (0, 124)],
    [(0, 146), (72, 146), (82, 150), (76, 172), (72, 196), (76, 218), (84, 230),
     (72, 234), (0, 234)],
]
_PEDICLES: list[Blob] = [(46, 54, 11, 15, 0), (50, 170, 13, 16, 0)]
_SPINOUS: list[Blob] = [(0, 96, 9, 22, 0), (0, 206, 9, 22, 0)]
_TRANSVERSE = (((72, 66), (116, 60), 16.0), ((74, 184), (114, 198), 22.0))
# fmt: on


def _pelvis_masks(size: tuple[int, int], fr: _Frame, blur: float, keys: Sequence[str]) -> dict[str, FloatArray]:
    """Rasterise the named bony and soft-tissue parts of an AP pelvis."""
    sc = fr.scale

    def body(d: ImageDraw.ImageDraw) -> None:
        half = _BODY_LATERAL + _BODY_MEDIAL
        d.polygon(fr.poly(half, -1) + fr.poly(half[::-1], 1), fill=255)

    def innominate(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_ILIUM, 2), s), fill=255)
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
        for half in _VERTEBRA_HALVES:
            d.polygon(_chaikin(fr.sym(half), 2), fill=255)

    def posterior(d: ImageDraw.ImageDraw) -> None:
        for blob in _SPINOUS:
            d.polygon(fr.ellipse(blob, 1), fill=255)
        for s in SIDES:
            for p0, p1, w in _TRANSVERSE:
                _stroke(d, fr.poly([p0, p1], s), w * sc)
            for blob in _PEDICLES:
                d.polygon(fr.ellipse(blob, s), outline=255, width=max(1, round(4 * sc)))

    def femur(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            d.polygon(fr.ellipse((u, v, HEAD_R, HEAD_R, 0), s, n=96), fill=255)
            d.polygon(fr.poly(_chaikin(_PROXIMAL_FEMUR, 2), s), fill=255)

    def shaft(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_SHAFT, 2), s), fill=255)

    def canal(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_CANAL, 2), s), fill=255)

    def trochanter(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.ellipse(_GREATER_TROCHANTER, s), fill=255)

    def trabecular_groups(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            _stroke(d, fr.poly(_COMPRESSIVE, s), 30 * sc)
            _stroke(d, fr.poly(_TENSILE, s), 14 * sc)

    def lines(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            _stroke(d, fr.poly(_BRIM, s), 5 * sc)
            _stroke(d, fr.poly(_ILIOISCHIAL, s), 4 * sc)
            _stroke(d, fr.poly(_TEARDROP, s), 5 * sc)
            _stroke(d, fr.poly(_arc_pts(u, v, HEAD_R + 7, 196, 306), s), 7 * sc)
            _stroke(d, fr.poly(_CREST, s), 6 * sc)

    def faint_lines(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            _stroke(d, fr.poly(_POSTERIOR_WALL, s), 3 * sc)
            _stroke(d, fr.poly(_ANTERIOR_WALL, s), 3 * sc)

    def thick(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.ellipse(_SUPRA_ACETABULAR, s), fill=255)
            _stroke(d, fr.poly(_PILLAR, s), 40 * sc)
            _stroke(d, fr.poly(_SI_JOINT, s), 40 * sc)

    def si_joint(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            _stroke(d, fr.poly(_SI_JOINT, s), 4 * sc)

    def sacral_ridges(d: ImageDraw.ImageDraw) -> None:
        for v, hw in ((252, 84), (318, 62), (362, 54), (404, 44), (444, 30)):
            _stroke(d, [fr.xy(hw, v, -1), fr.xy(0, v + 5, 1), fr.xy(hw, v, 1)], 3 * sc)
        _stroke(d, [fr.xy(0, 270, 1), fr.xy(0, 500, 1)], 5 * sc)

    def si_band(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            _stroke(d, fr.poly(_SI_JOINT, s), 24 * sc)

    def joint_space(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            _stroke(d, fr.poly(_arc_pts(u, v, HEAD_R + 3.5, 200, 300), s), 5 * sc)

    painters: dict[str, tuple[Painter, float]] = {
        "body": (body, blur * 2),
        "innominate": (innominate, blur),
        "sacrum": (sacrum, blur),
        "foramina": (foramina, blur * 1.5),
        "vertebrae": (vertebrae, blur),
        "posterior": (posterior, blur * 1.5),
        "femur": (femur, blur),
        "shaft": (shaft, blur + 24 * sc),
        "canal": (canal, blur + 12 * sc),
        "trochanter": (trochanter, blur + 12 * sc),
        "trabecular_groups": (trabecular_groups, blur + 8 * sc),
        "lines": (lines, blur + 0.5),
        "faint_lines": (faint_lines, blur + 0.5 + sc),
        "thick": (thick, blur + 16 * sc),
        "si_joint": (si_joint, blur),
        "sacral_ridges": (sacral_ridges, blur + 1.0),
        "joint_space": (joint_space, blur),
        "si_band": (si_band, blur + 4 * sc),
    }
    return {k: _mask(size, *painters[k]) for k in keys}


def _ho_blobs(severity: int, rng: np.random.Generator) -> tuple[list[Blob], list[Target]]:
    """Return new-bone blobs and arrow targets for one hip, in (u, v) units."""
    blobs: list[Blob] = []
    targets: list[Target] = []

    def jitter(u: float, v: float, a: float, b: float, ang: float, j: float) -> Blob:
        du, dv = rng.normal(0.0, j, 2)
        f = float(rng.uniform(0.88, 1.12))
        return (u + du, v + dv, a * f, b * f, ang + float(rng.normal(0, 10)))

    def cloud(core: Blob, satellites: int) -> None:
        blobs.append(core)
        u, v, a, b, ang = core
        t0 = math.radians(ang)
        for _ in range(satellites):
            t = float(rng.uniform(0, 2 * np.pi))
            r = float(rng.uniform(0.45, 0.8))
            pu, pv = r * a * math.cos(t), r * b * math.sin(t)
            blobs.append(
                (
                    u + pu * math.cos(t0) - pv * math.sin(t0),
                    v + pu * math.sin(t0) + pv * math.cos(t0),
                    a * float(rng.uniform(0.35, 0.55)),
                    b * float(rng.uniform(0.4, 0.6)),
                    float(rng.uniform(0, 180)),
                )
            )

    if severity == 1:
        for _ in range(int(rng.integers(2, 4))):
            a = float(rng.uniform(11, 18))
            blob = jitter(380, 420, a, a * 0.7, float(rng.uniform(0, 180)), 14)
            blobs.append(blob)
            targets.append((blob[0], blob[1], a + 10))
    elif severity == 2:
        cloud(jitter(302, 382, 46, 19, 42, 3), 1)  # spur from the acetabular margin
        cloud(jitter(378, 452, 32, 20, 100, 3), 1)  # spur from the greater trochanter
        lateral = jitter(402, 418, 26, 20, 75, 5)  # separate cloud in the abductors
        cloud(lateral, 2)
        targets += [(342, 412, 34), (lateral[0], lateral[1], 32)]
    elif severity == 3:
        # fmt: off
        cores = ((322, 372, 44, 26, 40), (352, 414, 48, 36, 62), (374, 462, 46, 38, 85),
                 (386, 508, 36, 30, 100), (402, 440, 26, 38, 80), (292, 346, 30, 18, 25))
        # fmt: on
        for u, v, a, b, ang in cores:
            cloud(jitter(u, v, a, b, ang, 3), 1)
        targets += [(372, 420, 56), (392, 500, 46)]
    return blobs, targets


def _cloud_mask(shape: tuple[int, int], blobs: Sequence[Blob], rng: np.random.Generator, smooth: float) -> FloatArray:
    """Rasterise a cloud of new bone: a blurred blob envelope cut by smooth noise."""
    h, w = shape
    out = np.zeros(shape, dtype=np.float32)
    if not blobs:
        return out
    pad = 3.0 * smooth + 6.0
    x0 = max(int(min(b[0] - max(b[2], b[3]) for b in blobs) - pad), 0)
    x1 = min(int(max(b[0] + max(b[2], b[3]) for b in blobs) + pad) + 1, w)
    y0 = max(int(min(b[1] - max(b[2], b[3]) for b in blobs) - pad), 0)
    y1 = min(int(max(b[1] + max(b[2], b[3]) for b in blobs) + pad) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return out
    sub = (y1 - y0, x1 - x0)
    local = [(u - x0, v - y0, a, b, ang) for u, v, a, b, ang in blobs]
    env = _blur(_blob_mask(sub, local, rng, edge=1.0), smooth)
    noise = _blur(0.5 + 0.25 * rng.standard_normal(sub, dtype=np.float32), 0.8 * smooth + 0.5) - 0.5
    noise /= float(noise.std()) + 1e-6
    m = np.clip((env - 0.42 + 0.09 * noise) * 6.0, 0, 1)
    out[y0:y1, x0:x1] = _blur(m, 0.6 + 0.2 * smooth)
    return out


def _ho_mask(
    shape: tuple[int, int], fr: _Frame, severity: int, rng: np.random.Generator
) -> tuple[FloatArray, dict[int, list[Target]]]:
    """Rasterise new bone around both hips; return the mask and arrow targets."""
    out = np.zeros(shape, dtype=np.float32)
    targets: dict[int, list[Target]] = {}
    smooth = (2.0 if severity == 1 else 6.0) * fr.scale + 0.4
    for s in SIDES:
        side_blobs, side_targets = _ho_blobs(severity, rng)
        blobs: list[Blob] = []
        for u, v, a, b, ang in side_blobs:
            x, y = fr.xy(u, v, s)
            blobs.append((x, y, a * fr.scale, b * fr.scale, ang if s > 0 else 180 - ang))
        np.maximum(out, _cloud_mask(shape, blobs, rng, smooth), out=out)
        targets[s] = side_targets
    return out, targets


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
    targets: dict[int, list[Target]],
    rng: np.random.Generator,
) -> list[tuple[Point, Point]]:
    """Choose two to four arrows (one or two per hip) aimed at the targets."""
    default: list[Target] = [(372.0, 440.0, 30.0)]
    specs: list[tuple[Point, Point]] = []
    for s in SIDES:
        pts = sorted(targets.get(s) or default, key=lambda t: t[1])
        if int(rng.integers(1, 3)) == 2:  # upper target from above, lower from the side
            aims = [(pts[0], (0.45, -1.0)), (pts[-1], (1.0, 0.45))]
        else:
            aims = [(pts[int(rng.integers(len(pts)))], (0.8, -0.6))]
        for (u, v, gap), (du, dv) in aims:
            norm = math.hypot(du, dv)
            du, dv = du / norm, dv / norm
            length = max(55.0, min(110.0, (500.0 - u) / du - gap))
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
    keys = (
        "body", "innominate", "sacrum", "foramina", "vertebrae", "posterior", "femur", "shaft", "canal",
        "trochanter", "trabecular_groups", "lines", "faint_lines", "thick", "si_joint", "sacral_ridges",
        "joint_space",
    )  # fmt: skip
    m = _pelvis_masks((width, height), fr, 0.0, keys)
    trab = _texture(_rng(seed, 1), shape, 1.6, 5.0)
    trab_v = _texture(_rng(seed, 2), shape, (1.2, 3.2), 6.0)

    # soft tissue, thicker centrally
    body = m["body"]
    atten = body * (0.06 + 0.25 * _blur(body, 70))

    # bowel gas over the flanks and the rectosigmoid
    g = _rng(seed, 3)
    gas_blobs: list[Blob] = []
    for _ in range(int(g.integers(3, 7))):
        u = float(g.uniform(-300, 300))
        v = float(g.uniform(20, 300)) if abs(u) > 150 else float(g.uniform(300, 420))
        r = float(g.uniform(14, 34))
        gas_blobs.append((width / 2 + u, v, r, r * float(g.uniform(0.5, 0.8)), float(g.uniform(0, 180))))
    gas = _blur(_blob_mask(shape, gas_blobs, g, edge=3.0), 4)
    atten -= 0.1 * gas * np.clip(1.0 + 0.3 * trab, 0, 2)

    def rim(mask: FloatArray, radius: float) -> FloatArray:
        return np.clip(2.2 * (1.0 - _blur(mask, radius)) - 0.1, 0, 1) * mask

    # pelvis: thin iliac fossae, denser margins, pillars and joint lines
    inn = m["innominate"]
    bone = inn * (0.11 + 0.02 * trab) + 0.26 * rim(inn, 4) + 0.16 * rim(inn, 18)
    bone += 0.22 * m["thick"] * inn + 0.26 * m["lines"] + 0.07 * m["faint_lines"]
    sac = m["sacrum"]
    bone += sac * (0.11 + 0.02 * trab) + 0.1 * rim(sac, 5) - 0.07 * m["foramina"] * sac
    bone += 0.08 * m["sacral_ridges"] * sac - 0.08 * m["si_joint"] - 0.12 * m["joint_space"]
    vert = m["vertebrae"]
    bone += vert * (0.2 + 0.03 * trab) + 0.24 * rim(vert, 4) + 0.18 * m["posterior"]

    # femora: cortex, medullary canal and trabecular groups
    fem = m["femur"]
    shaft = m["shaft"]
    bone += fem * (0.3 + 0.035 * trab_v) + 0.32 * rim(fem, 6)
    bone += 0.36 * shaft * rim(fem, 14) + 0.08 * m["trabecular_groups"] * fem
    bone -= 0.1 * m["canal"] + 0.06 * m["trochanter"] * fem

    # heterotopic new bone: denser periphery, trabecular centre
    ho, targets = _ho_mask(shape, fr, severity, _rng(seed, 4))
    core, shell = _zonal(ho, 5.0)
    bone += core * (0.28 + 0.04 * trab) + shell * 0.42

    atten = atten + 1.3 * bone
    img = 1.0 - np.exp(-1.5 * np.clip(atten, 0, None))
    heel = 1.0 - 0.07 * (np.arange(height, dtype=np.float32)[:, None] / height)
    noise = _rng(seed, 5).standard_normal(shape, dtype=np.float32)
    img = 0.035 + 0.95 * (img * heel) ** 1.35 + 0.012 * noise
    img = _blur(np.clip(img, 0, 1), 0.9)
    out = _finish(img)
    if arrows:
        out = _draw_arrows(out, _arrow_specs(fr, targets, _rng(seed, 6)))
    _text(out, (64, 36), "R", fill=225, size=30)
    return _label(out)


# --------------------------------------------------------------------------
# axial CT


def _ct_window(hu: FloatArray, level: float, width: float) -> FloatArray:
    """Map Hounsfield units through a display window to [0, 1]."""
    return np.clip((hu - (level - width / 2)) / width, 0, 1).astype(np.float32)


def _cup(xs: FloatArray, ys: FloatArray, centre: Point, inner: float, side: int, edge: float = 1.2) -> FloatArray:
    """Return an axial acetabular cup: thick behind, thinner in front and medially."""
    cx, cy = centre
    du = side * (xs - cx)
    dy = ys - cy
    r = np.hypot(du, dy)
    phi = np.arctan2(dy, du)
    thick = 8.0 + 12.0 * np.clip(np.sin(phi), 0, 1) + 6.0 * np.clip(-np.sin(phi), 0, 1)
    centre_dir = math.radians(178.0)
    reach = np.cos(phi - centre_dir) - math.cos(math.radians(106.0))
    thick = thick * np.clip(0.45 + 2.0 * reach, 0, 1)
    shell = np.clip(0.5 + (r - inner) / edge, 0, 1) * np.clip(0.5 + (inner + thick - r) / edge, 0, 1)
    return (shell * np.clip(0.5 + reach * r / edge, 0, 1)).astype(np.float32)


def pelvis_ct(*, severity: int = 2, level: str = "acetabulum", seed: int = 0) -> Image.Image:
    """Render an axial pelvis CT slice in a bone-weighted window."""
    severity = _check_int("severity", severity, SEVERITIES)
    level = _check_choice("level", level, CT_LEVELS)
    seed = _check_seed(seed)
    n = 512
    shape = (n, n)
    size = (n, n)
    xs, ys = _grid(n, n)
    cx = n / 2
    trab = _texture(_rng(seed, 1), shape, 1.5, 4.5)
    neck = level == "femoral_neck"

    def both(fn: Callable[[int], FloatArray]) -> FloatArray:
        return np.maximum(fn(-1), fn(1))

    def ell(u: float, y: float, a: float, b: float, ang: float = 0.0, edge: float = 1.2) -> FloatArray:
        return both(lambda s: _ell(xs, ys, cx + s * u, y, a, b, s * ang, edge))

    def caps(p0: Point, p1: Point, r: float) -> FloatArray:
        return both(lambda s: _capsule(xs, ys, (cx + s * p0[0], p0[1]), (cx + s * p1[0], p1[1]), r, 1.2))

    # body: pelvis, hips and buttocks resting on the table
    body = np.maximum.reduce(
        [
            _ell(xs, ys, cx, 248, 196, 136, edge=1.5),
            ell(150, 252, 86, 112, 0, 1.5),
            ell(92, 300, 124, 94, 8, 1.5),
        ]
    )
    cleft_top = 362.0 if neck else 372.0
    body = body * (1.0 - _capsule(xs, ys, (cx, cleft_top), (cx, 404), 2.0, edge=1.2))
    fov = _ell(xs, ys, cx, cx, 252, 252, edge=1.0)
    hu = np.full(shape, -1000.0, dtype=np.float32)
    depth = ys - 396.0 - 0.0005 * (xs - cx) ** 2
    span = np.clip((212.0 - np.abs(xs - cx)) / 2.0, 0, 1)
    slab = np.clip(0.5 + depth, 0, 1) * np.clip(0.5 + 18.0 - depth, 0, 1) * span
    skins = (np.clip(1.0 - np.abs(depth - 1.0) / 1.5, 0, 1) + np.clip(1.0 - np.abs(depth - 17.0) / 1.5, 0, 1)) * span
    hu = _over(hu, slab, -780.0)
    hu = _over(hu, skins, 250.0)
    muscle = np.clip((_blur(body, 10.0) - 0.9) * 14.0, 0, 1) * body
    hu = _over(hu, body, -105.0)
    hu = _over(hu, muscle, 48.0)

    # intermuscular fat planes
    g = _rng(seed, 2)
    if neck:
        plane_uv = (
            [(40, 150), (80, 160), (120, 175)],
            [(125, 170), (150, 200), (175, 215)],
            [(178, 215), (205, 200)],
            [(120, 290), (150, 300), (190, 300)],
            [(60, 340), (110, 320), (140, 300)],
            [(100, 185), (95, 215), (110, 230)],
        )
    else:
        plane_uv = (
            [(50, 160), (80, 150), (118, 160)],
            [(120, 160), (150, 185), (170, 205)],
            [(160, 205), (200, 185)],
            [(140, 210), (190, 240), (210, 280)],
            [(150, 296), (190, 300), (215, 290)],
            [(70, 345), (115, 318), (140, 300)],
        )

    def planes(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            for line in plane_uv:
                jit = g.normal(0, 2.5, (len(line), 2))
                pts = [(cx + s * (u + j[0]), y + j[1]) for (u, y), j in zip(line, jit, strict=True)]
                _stroke(d, pts, 3.0)

    hu = _over(hu, _mask(size, planes, 0.9) * muscle, -95.0)
    for s in SIDES:  # femoral vessels and nodes in the femoral triangle fat
        hu = _over(hu, _ell(xs, ys, cx + s * 80, 150, 22, 13, s * -15, edge=3), -95.0)
        hu = _over(hu, _ell(xs, ys, cx + s * 88, 148, 5.5, 5.5), 45.0)
        hu = _over(hu, _ell(xs, ys, cx + s * 74, 151, 6.5, 6.0), 40.0)
        hu = _over(hu, _ell(xs, ys, cx + s * 60, 152, 3.5, 3.0), 35.0)

    # pelvic contents
    if neck:
        hu = _over(hu, ell(38, 300, 22, 42, 15, 4), -100.0)  # ischioanal fossae
        hu = _over(hu, _ell(xs, ys, cx, 244, 19, 16, edge=2), 40.0)  # prostate
        hu = _over(hu, _ell(xs, ys, cx, 296, 14, 12, edge=1.5), 38.0)  # anal canal
    else:
        hu = _over(hu, _ell(xs, ys, cx, 252, 50, 98, edge=3.0), -95.0)
        hu = _over(hu, _ell(xs, ys, cx, 200, 46, 37, edge=1.5), 38.0)  # bladder wall
        hu = _over(hu, _ell(xs, ys, cx, 200, 43, 34, edge=1.5), 8.0)  # urine
        hu = _over(hu, _ell(xs, ys, cx, 312, 21, 17, edge=1.5), 38.0)  # rectum
        gas_x = float(g.uniform(-6, 6))
        hu = _over(hu, _ell(xs, ys, cx + gas_x, 310, 9, 6, edge=1.5), -900.0)

    # bones: marrow with texture inside a bright cortical shell
    def bone(mask: FloatArray, rim: float = 2.2) -> None:
        nonlocal hu
        shell = mask * np.clip(2.3 * (1.0 - _blur(mask, rim)) - 0.1, 0, 1)
        hu = _over(hu, mask, 260.0 + 45.0 * trab)
        hu = _over(hu, shell, 1300.0)

    def polys(*outlines: list[Point]) -> FloatArray:
        def paint(d: ImageDraw.ImageDraw) -> None:
            for s in SIDES:
                for pts in outlines:
                    d.polygon([(cx + s * u, y) for u, y in _chaikin(pts, 2)], fill=255)

        return _mask(size, paint, 0.8)

    if neck:
        femur = np.maximum.reduce([ell(100, 236, 24, 24), caps((100, 238), (150, 262), 20), ell(166, 270, 34, 27, 60)])
        bone(femur)
        bone(np.maximum(ell(17, 176, 13, 21, -20), caps((22, 188), (66, 212), 9)))  # pubis
        bone(np.maximum(ell(64, 300, 19, 27, -15), caps((64, 290), (60, 268), 11)))  # ischium
    else:
        head_c = (100.0, 248.0)
        heads = ell(*head_c, 28, 28)
        bone(heads)
        hu = _over(hu, ell(74, 248, 4.5, 4) * heads, 40.0)  # fovea
        cup = both(lambda s: _cup(xs, ys, (cx + s * head_c[0], head_c[1]), 31.0, s))
        columns = polys(
            [(80, 212), (60, 190), (44, 184), (38, 194), (56, 220), (64, 236)],
            [(66, 262), (86, 284), (94, 296), (74, 312), (58, 330), (50, 328), (52, 300), (58, 276)],
        )
        bone(np.maximum(cup, columns * (1.0 - heads) * (1.0 - ell(*head_c, 31, 31))))
        bone(_ell(xs, ys, cx, 352, 9, 7, edge=1.2), rim=1.5)  # coccyx

    # heterotopic new bone: bright rim and a less dense centre
    if severity:
        ho_rng = _rng(seed, 3)
        if neck:
            sites = [((140, 205), 1.0), ((196, 250), 0.9), ((175, 300), 0.8)]
        else:
            sites = [((150, 190), 1.0), ((178, 246), 0.9), ((158, 300), 0.85)]
        if severity == 3:
            sites.append(((118, 168), 0.8))
        radius = {1: 7.0, 2: 15.0, 3: 22.0}[severity]
        ho = np.zeros(shape, dtype=np.float32)
        for s in SIDES:
            blobs: list[Blob] = []
            for (u, y), f in sites:
                r = radius * f * float(ho_rng.uniform(0.8, 1.2))
                x = cx + s * (u + float(ho_rng.normal(0, 3)))
                blobs.append((x, y + float(ho_rng.normal(0, 3)), r, r * 0.8, float(ho_rng.uniform(0, 180))))
            if severity == 3:  # bridge the masses to the hip
                blobs.append((cx + s * 150, 246, 26, 46, 0))
            np.maximum(ho, _cloud_mask(shape, blobs, ho_rng, 2.0 if severity == 1 else 4.0), out=ho)
        core, rim = _zonal(ho, 3.0)
        hu = _over(hu, core, 200.0 + 60.0 * trab)
        hu = _over(hu, rim, 950.0)

    noise = _rng(seed, 4).standard_normal(shape, dtype=np.float32)
    noise = (_blur(0.5 + 0.12 * noise, 0.7) - 0.5) * 8.0
    hu = hu + 22.0 * noise * fov
    img = _blur(_ct_window(hu, 100.0, 1000.0), 0.5)
    return _label(_finish(img))


# --------------------------------------------------------------------------
# coronal MR


# fmt: off
_MR_SIGNAL: dict[str, dict[str, float]] = {
    "T1": {"fat": 0.88, "muscle": 0.32, "cortex": 0.03, "marrow": 0.78, "fluid": 0.09,
           "cartilage": 0.40, "oedema": 0.26, "bowel": 0.36},
    "STIR": {"fat": 0.06, "muscle": 0.20, "cortex": 0.02, "marrow": 0.12, "fluid": 0.95,
             "cartilage": 0.45, "oedema": 0.80, "bowel": 0.42},
}
_MR_ILIUM: list[Point] = [
    (170, 432), (186, 380), (214, 300), (250, 220), (292, 150), (322, 104),
    (340, 92), (350, 106), (336, 170), (316, 250), (304, 320), (296, 372),
    (290, 404), (260, 412), (220, 420),
]
_MR_MEDIAL_WALL: list[Point] = [(168, 430), (184, 440), (196, 520), (198, 566), (178, 570), (170, 500)]
_MR_RAMUS: Blob = (150, 690, 36, 18, 15)
_MR_CAVITY: list[Point] = [
    (0, -60), (150, -60), (176, 100), (200, 220), (186, 330), (158, 420), (150, 520),
    (138, 600), (96, 660), (0, 676),
]
_MR_ISCHIOANAL: list[Point] = [(140, 690), (160, 730), (140, 768), (96, 770), (84, 752), (116, 724)]
_MR_PLANES: list[list[Point]] = [
    [(356, 150), (350, 236), (338, 320), (328, 372)],
    [(398, 230), (414, 330), (428, 430)],
    [(410, 640), (406, 760), (398, 880)],
    [(258, 720), (226, 820), (210, 950)],
    [(206, 590), (254, 606), (286, 640)],
]
# fmt: on


def pelvis_mr(*, severity: int = 2, sequence: str = "T1", seed: int = 0) -> Image.Image:
    """Render a coronal MR slice through both hips."""
    severity = _check_int("severity", severity, SEVERITIES)
    sequence = _check_choice("sequence", sequence, MR_SEQUENCES)
    seed = _check_seed(seed)
    sig = _MR_SIGNAL[sequence]
    n = 512
    shape = (n, n)
    size = (n, n)
    fr = _Frame(cx=n / 2, top=-24, scale=0.52)
    xs, ys = _grid(n, n)
    tex = _texture(_rng(seed, 1), shape, 2.0, 6.0)
    g = _rng(seed, 2)

    def polys(*outlines: Sequence[Point], blur: float = 1.0, rounds: int = 2) -> FloatArray:
        def paint(d: ImageDraw.ImageDraw) -> None:
            for s in SIDES:
                for pts in outlines:
                    d.polygon(fr.poly(_chaikin(pts, rounds), s), fill=255)

        return _mask(size, paint, blur)

    def body(d: ImageDraw.ImageDraw) -> None:
        half = _BODY_LATERAL + _BODY_MEDIAL
        d.polygon(fr.poly(half, -1) + fr.poly(half[::-1], 1), fill=255)

    silhouette = _mask(size, body, 1.2)
    muscle = np.clip((_blur(silhouette, 12.0) - 0.88) * 12.0, 0, 1) * silhouette
    img = _over(np.zeros(shape, dtype=np.float32), silhouette, sig["fat"])
    img = _over(img, muscle, sig["muscle"] * (1.0 + 0.03 * tex))

    def planes(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            for line in _MR_PLANES:
                jit = g.normal(0, 5, (len(line), 2))
                _stroke(d, fr.poly([(u + j[0], v + j[1]) for (u, v), j in zip(line, jit, strict=True)], s), 2.5)

    img = _over(img, _mask(size, planes, 0.9) * muscle * 0.8, sig["fat"])

    # pelvic cavity: bowel loops in mesenteric fat, bladder, ischioanal fat
    cavity = _mask(size, lambda d: d.polygon(_chaikin(fr.sym(_MR_CAVITY), 3), fill=255), 2.5)
    img = _over(img, cavity, sig["fat"])
    img = _over(img, polys(_MR_ISCHIOANAL, blur=2.5, rounds=3), sig["fat"])
    bowel: list[Blob] = []
    for i in range(int(g.integers(26, 32))):
        v = float(g.uniform(-40, 490))
        u = (i % 2 * 2 - 1) * float(g.uniform(0, 1)) ** 0.7 * (175 if v < 330 else 125)
        x, y = fr.xy(u, v, 1)
        r = float(g.uniform(18, 28))
        bowel.append((x, y, r, r * float(g.uniform(0.55, 0.85)), float(g.uniform(0, 180))))
    loops = _blur(_blob_mask(shape, bowel, g, edge=1.5), 1.0) * cavity
    walls = loops * np.clip(2.4 * (1.0 - _blur(loops, 1.5)) - 0.1, 0, 1)
    img = _over(img, loops, sig["bowel"] * (1.0 + 0.06 * tex))
    img = _over(img, walls * 0.7, sig["muscle"] * 0.75)
    bx, by = fr.xy(0, 566, 1)
    img = _over(img, _ell(xs, ys, bx, by, 64, 50, edge=1.5), sig["muscle"])  # bladder wall
    img = _over(img, _ell(xs, ys, bx, by, 61, 47, edge=1.5), sig["fluid"])

    # bones: coronal ilium and acetabulum, ischiopubic ramus, proximal femora
    def socket(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            d.polygon(fr.ellipse((u, v, HEAD_R + 8, HEAD_R + 8, 0), s, n=96), fill=255)

    def femur(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            d.polygon(fr.ellipse((u, v, HEAD_R, HEAD_R, 0), s, n=96), fill=255)
            d.polygon(fr.poly(_chaikin(_PROXIMAL_FEMUR, 2), s), fill=255)

    def ramus(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.ellipse(_MR_RAMUS, s), fill=255)

    sock = _mask(size, socket, 1.0)
    pelvis = np.maximum(polys(_MR_ILIUM, _MR_MEDIAL_WALL), _mask(size, ramus, 1.0)) * (1.0 - sock)
    fem = _mask(size, femur, 1.0)
    joint = np.clip(sock - fem, 0, 1)
    img = _over(img, joint, sig["cartilage"])
    img = _over(img, joint * _blur(joint, 1.2), sig["fluid"] * 0.6 + sig["cartilage"] * 0.4)
    for mask, rim_w in ((pelvis, 2.4), (fem, 2.6)):
        shell = mask * np.clip(2.4 * (1.0 - _blur(mask, rim_w)) - 0.1, 0, 1)
        img = _over(img, mask, sig["marrow"] * (1.0 + 0.04 * tex))
        img = _over(img, shell, sig["cortex"])

    def shaft(d: ImageDraw.ImageDraw) -> None:
        for s in SIDES:
            d.polygon(fr.poly(_chaikin(_SHAFT, 2), s), fill=255)

    shaft_mask = _mask(size, shaft, 1.0) * fem
    shaft_cortex = shaft_mask * np.clip(2.4 * (1.0 - _blur(shaft_mask, 4.5)) - 0.1, 0, 1)
    shaft_cortex *= np.clip((ys - (fr.top + 660 * fr.scale)) / 30.0, 0, 1)
    img = _over(img, shaft_cortex, sig["cortex"])

    def physis(d: ImageDraw.ImageDraw) -> None:
        u, v = HEAD_UV
        for s in SIDES:
            _stroke(d, fr.poly(_arc_pts(u + 100, v + 30, 92, 172, 236), s), 1.6)

    img = _over(img, _mask(size, physis, 0.7) * fem * 0.7, sig["cortex"])

    # heterotopic new bone: dark cortical rim, fatty-marrow centre, oedema on STIR
    # a slice is narrower than a projection: pull the masses in towards the hips
    ho_frame = _Frame(cx=fr.cx, top=fr.top + 440 * fr.scale * 0.06, scale=fr.scale * 0.94)
    ho, _targets = _ho_mask(shape, ho_frame, severity, _rng(seed, 3))
    ho = ho * (1.0 - pelvis) * (1.0 - fem)
    if severity:
        core, rim = _zonal(ho, 2.2)
        halo = np.clip(_blur(ho, 10.0) * 2.0 - ho, 0, 1) * muscle
        img = _over(img, (0.2 + 0.25 * severity) * halo, sig["oedema"])
        centre = sig["marrow"] * (0.95 + 0.1 * tex)
        if sequence == "STIR":
            centre = centre + 0.1 * severity * np.clip(0.5 + 0.5 * tex, 0, 1)
        img = _over(img, core, centre)
        img = _over(img, rim, sig["cortex"])

    # coil shading, slight blur and Rician noise
    shading = (0.84 + 0.22 * (np.abs(xs - n / 2) / (n / 2)) ** 2) * (1.0 - 0.15 * ((ys - n / 2) / (n / 2)) ** 2)
    img = _blur(np.clip(img * shading, 0, 1), 0.8)
    noise = _rng(seed, 4).standard_normal((2, n, n), dtype=np.float32) * 0.02
    img = np.sqrt((img + noise[0]) ** 2 + noise[1] ** 2)
    return _label(_finish(np.clip(img * 1.05, 0, 1)))


# --------------------------------------------------------------------------
# bone scintigraphy


def _counts_to_image(counts: FloatArray, saturation: float) -> FloatArray:
    """Display counts the conventional way: black counts on a white background."""
    return (1.0 - np.clip(counts / saturation, 0, 1) ** 0.85).astype(np.float32)


def _poisson_view(rng: np.random.Generator, expected: FloatArray, saturation: float, smooth: float = 0.7) -> FloatArray:
    """Draw Poisson counts around an expected-count map and display them."""
    counts = rng.poisson(np.clip(expected, 0, None)).astype(np.float32)
    top = max(float(counts.max()), 1.0)
    return _counts_to_image(_blur(counts / top, smooth) * top, saturation)


def _pelvis_uptake(size: tuple[int, int], fr: _Frame, blur: float) -> dict[str, FloatArray]:
    """Return skeletal uptake, soft-tissue and bladder maps of an anterior pelvis."""
    keys = ("body", "innominate", "sacrum", "vertebrae", "posterior", "femur", "canal", "si_band", "thick")
    m = _pelvis_masks(size, fr, blur, keys)
    inn = m["innominate"]
    edge = np.clip(2.0 * (1.0 - _blur(inn, max(1.0, 10 * fr.scale))), 0, 1) * inn
    fem = m["femur"]
    xs, ys = _grid(*size)
    bx, by = fr.xy(0, 585, 1)
    return {
        "pelvis": (0.55 * inn + 0.25 * edge + 0.2 * m["thick"] * inn).astype(np.float32),
        "sacrum": (m["sacrum"] + 0.6 * m["si_band"]).astype(np.float32),
        "spine": (m["vertebrae"] + 0.4 * m["posterior"]).astype(np.float32),
        "femur": (fem * (0.55 + 0.45 * (1.0 - m["canal"]))).astype(np.float32),
        "body": m["body"],
        "bladder": _ell(xs, ys, bx, by, 80 * fr.scale, 60 * fr.scale, edge=1.0 + 2 * fr.scale),
    }


def _hip_activity(
    shape: tuple[int, int], fr: _Frame, activity: int, rng: np.random.Generator, halo: float = 0.15
) -> FloatArray:
    """Return extra uptake in and around new bone lateral to both hips."""
    if activity == 0:
        return np.zeros(shape, dtype=np.float32)
    ho, _targets = _ho_mask(shape, fr, activity, rng)
    glow = _blur(ho, 12 * fr.scale + 1.0)
    return (ho + halo * activity * np.clip(glow * 2.0, 0, 1)).astype(np.float32)


# fmt: off
# Whole-body skeleton in body units: u from the midline, v down from the vertex
# (930 units tall); the pelvis itself comes from the AP pelvis geometry.
_WB_PELVIS = (364.0, 0.225)  # top and scale of the pelvis frame in body units
_WB_STROKES: dict[str, tuple[list[list[Point]], float]] = {
    "cspine": ([[(0, 128), (0, 172)]], 12),
    "tspine": ([[(0, 172), (0, 250), (0, 330)]], 17),
    "lspine": ([[(0, 330), (0, 372)]], 21),
    "sternum": ([[(0, 186), (0, 268)]], 11),
    "clavicles": ([[(10, 180), (50, 176), (96, 170)]], 7),
    "humeri": ([[(106, 186), (116, 260), (124, 340)]], 10),
    "forearms": ([[(126, 350), (134, 410), (140, 470)]], 8),
    "hands": ([[(141, 482), (144, 512), (146, 536)]], 10),
    "femora": ([[(76, 532), (64, 600), (52, 660)]], 15),
    "tibiae": ([[(50, 680), (46, 790), (43, 890)]], 12),
    "fibulae": ([[(60, 690), (58, 790), (54, 884)]], 5),
}
_WB_BLOBS: dict[str, list[Blob]] = {
    "skull": [(0, 62, 50, 62, 0)],
    "face": [(0, 104, 30, 20, 0), (0, 122, 26, 8, 0)],
    "shoulders": [(103, 182, 13, 13, 0)],
    "scapulae": [(72, 222, 28, 42, 12)],
    "elbows": [(125, 346, 10, 9, 0)],
    "wrists": [(141, 476, 9, 8, 0)],
    "knees": [(51, 670, 17, 13, 0)],
    "ankles": [(43, 896, 11, 9, 0), (44, 914, 13, 7, 0)],
    "kidneys": [(40, 318, 14, 26, -10)],
}
_WB_WEIGHTS: dict[str, tuple[float, float]] = {  # anterior, posterior
    "skull": (0.42, 0.45), "skull_in": (-0.28, -0.3), "face": (0.3, 0.15), "cspine": (0.35, 0.45),
    "tspine": (0.36, 0.6), "lspine": (0.42, 0.65), "sternum": (0.4, 0.06), "clavicles": (0.4, 0.22),
    "ribs": (0.24, 0.3), "shoulders": (0.45, 0.45), "scapulae": (0.1, 0.36), "humeri": (0.28, 0.28),
    "elbows": (0.38, 0.38), "forearms": (0.22, 0.22), "wrists": (0.4, 0.4), "hands": (0.3, 0.3),
    "femora": (0.3, 0.3), "knees": (0.48, 0.42), "tibiae": (0.34, 0.3), "fibulae": (0.12, 0.12),
    "ankles": (0.45, 0.4), "kidneys": (0.04, 0.26), "pelvis": (0.42, 0.55), "sacrum": (0.3, 0.62),
    "spine": (0.4, 0.62), "femur": (0.4, 0.36), "bladder": (2.6, 2.0), "body": (0.04, 0.04),
}
# fmt: on


def _whole_body_parts(size: tuple[int, int]) -> dict[str, FloatArray]:
    """Rasterise the whole-body skeleton parts of one anterior view."""
    w, h = size
    k = h / 930.0
    cx = w / 2

    def p(u: float, v: float, s: int) -> Point:
        return (cx + s * u * k, v * k)

    def strokes(lines: list[list[Point]], width: float) -> Painter:
        def paint(d: ImageDraw.ImageDraw) -> None:
            for s in SIDES:
                for line in lines:
                    _stroke(d, [p(u, v, s) for u, v in line], width * k)

        return paint

    def blobs(items: list[Blob]) -> Painter:
        def paint(d: ImageDraw.ImageDraw) -> None:
            for s in SIDES:
                for u, v, a, b, ang in items:
                    d.polygon([p(x, y, s) for x, y in _ellipse_pts(u, v, a, b, ang)], fill=255)

        return paint

    def ribs(d: ImageDraw.ImageDraw) -> None:
        for i in range(10):
            v = 184 + 15.5 * i
            reach = 62 + 30 * math.sin(math.pi * (i + 1.5) / 12)
            t = np.linspace(0, 1, 12)
            us = 8 + (reach - 8) * np.sin(t * math.pi * 0.62) / math.sin(math.pi * 0.62)
            vs = v - 6 * np.sin(t * math.pi) + 34 * t**2.2
            for s in SIDES:
                _stroke(d, [p(float(u), float(vv), s) for u, vv in zip(us, vs, strict=True)], 4.5 * k)

    def body(d: ImageDraw.ImageDraw) -> None:
        # fmt: off
        half = [(0, -4), (40, 4), (56, 50), (50, 100), (32, 136), (34, 160), (96, 170),
                (122, 190), (132, 250), (142, 340), (152, 450), (160, 530), (158, 556),
                (138, 556), (130, 470), (118, 360), (110, 300), (112, 420), (118, 470),
                (100, 620), (80, 700), (64, 880), (70, 926), (30, 928), (32, 880),
                (30, 700), (18, 560), (0, 548)]
        # fmt: on
        d.polygon(_chaikin([p(u, v, -1) for u, v in half] + [p(u, v, 1) for u, v in reversed(half)], 2), fill=255)

    parts: dict[str, FloatArray] = {}
    for name, (lines, width) in _WB_STROKES.items():
        parts[name] = _mask(size, strokes(lines, width), 1.5)
    for name, items in _WB_BLOBS.items():
        parts[name] = _mask(size, blobs(items), 1.5)
    parts["skull_in"] = _mask(size, blobs([(0, 60, 42, 54, 0)]), 2.0)
    parts["ribs"] = _mask(size, ribs, 1.5)
    top, scale = _WB_PELVIS
    fr = _Frame(cx=cx, top=top * k, scale=scale * k)
    pelvis = _pelvis_uptake(size, fr, 1.2)
    below_hips = np.clip((540 * k - np.arange(h, dtype=np.float32)[:, None]) / (8 * k), 0, 1)
    pelvis["femur"] = pelvis["femur"] * below_hips
    pelvis["body"] = _mask(size, body, 3.0)
    parts.update(pelvis)
    return parts


def bone_scan(*, phase: str = "delayed", activity: int = 2, seed: int = 0) -> Image.Image:
    """Render a three-phase bone scan image with hip uptake."""
    phase = _check_choice("phase", phase, SCAN_PHASES)
    activity = _check_int("activity", activity, SEVERITIES)
    seed = _check_seed(seed)
    if phase == "flow":
        return _bone_scan_flow(activity, seed)
    if phase == "blood_pool":
        return _bone_scan_pool(activity, seed)
    return _bone_scan_delayed(activity, seed)


# fmt: off
_AORTA: list[Point] = [(14, -80), (14, 150)]
_ILIAC_FEMORAL: list[Point] = [
    (14, 150), (60, 240), (110, 330), (150, 420), (180, 500), (205, 600), (228, 720),
    (250, 860), (262, 1000), (270, 1300),
]
_INTERNAL_ILIAC: list[Point] = [(60, 240), (76, 330), (70, 420)]
# fmt: on


def _vessels(size: tuple[int, int], fr: _Frame) -> FloatArray:
    """Return the aorta, iliac and femoral vessels of an anterior pelvis."""

    def paint(d: ImageDraw.ImageDraw) -> None:
        _stroke(d, fr.poly(_AORTA, 1), 34 * fr.scale)
        for s in SIDES:
            _stroke(d, fr.poly(_ILIAC_FEMORAL, s), 22 * fr.scale)
            _stroke(d, fr.poly(_INTERNAL_ILIAC, s), 14 * fr.scale)

    return _mask(size, paint, 6.0 * fr.scale + 1.0)


def _bone_scan_flow(activity: int, seed: int) -> Image.Image:
    """Render the dynamic flow montage of eight anterior pelvis frames."""
    tile = 256
    size = (tile, tile)
    fr = _Frame(cx=tile / 2, top=4, scale=0.24)
    parts = _pelvis_uptake(size, fr, 2.0)
    body = _blur(parts["body"], 4.0)
    bone = parts["pelvis"] + parts["sacrum"] + parts["femur"]
    vessels = _vessels(size, fr)
    hips = _blur(_hip_activity(size[::-1], fr, activity, _rng(seed, 3), halo=0.5), 6.0)
    rng = _rng(seed, 7)
    canvas = np.ones((2 * tile, 4 * tile), dtype=np.float32)
    for i in range(8):
        t = float(i)
        arterial = 0.0 if i == 0 else (t / 2.0) ** 2 * math.exp(2.0 - t)
        tissue = 0.1 + 0.13 * t
        expected = 18.0 * (
            (0.9 * arterial + 0.15 * tissue) * vessels + tissue * (0.22 * body + 0.05 * bone + 0.55 * hips)
        )
        view = _poisson_view(rng, expected, 17.0, smooth=1.0)
        r, c = divmod(i, 4)
        canvas[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = view
    canvas[tile - 1 : tile + 1, :] = 0.75
    for c in range(1, 4):
        canvas[:, c * tile - 1 : c * tile + 1] = 0.75
    out = _finish(canvas)
    for i in range(8):
        r, c = divmod(i, 4)
        _text(out, (c * tile + 7, r * tile + 5), str(i + 1), fill=60, size=12)
    return _label(out, light=True)


def _bone_scan_pool(activity: int, seed: int) -> Image.Image:
    """Render a single anterior blood-pool image of the pelvis."""
    n = 512
    size = (n, n)
    fr = _Frame(cx=n / 2, top=20, scale=0.46)
    parts = _pelvis_uptake(size, fr, 3.0)
    body = _blur(parts["body"], 8.0)
    bone = parts["pelvis"] + parts["sacrum"] + parts["femur"]
    vessels = _vessels(size, fr)
    hips = _blur(_hip_activity((n, n), fr, activity, _rng(seed, 3), halo=0.8), 14.0)
    activity_map = 0.42 * body + 0.5 * vessels + 0.12 * bone + 0.55 * hips + 0.45 * parts["bladder"]
    expected = 60.0 * _blur(np.clip(activity_map / 2.0, 0, 1), 3.0)
    img = _poisson_view(_rng(seed, 7), expected, 34.0, smooth=1.2)
    out = _finish(img)
    _text(out, (10, 8), "BLOOD POOL  ANT", fill=60, size=12)
    return _label(out, light=True)


def _bone_scan_delayed(activity: int, seed: int) -> Image.Image:
    """Render anterior and posterior whole-body views plus a pelvic spot view."""
    panel_w, height, spot = 300, 960, 560
    width = 2 * panel_w + spot + 40
    canvas = np.ones((height, width), dtype=np.float32)
    rng = _rng(seed, 7)
    parts = _whole_body_parts((panel_w, height))
    k = height / 930.0
    top, scale = _WB_PELVIS
    fr = _Frame(cx=panel_w / 2, top=top * k, scale=scale * k)
    hips = _blur(_hip_activity((height, panel_w), fr, activity, _rng(seed, 3)), 1.0)
    for j in range(2):
        uptake = sum((w[j] * parts[name] for name, w in _WB_WEIGHTS.items()), np.zeros_like(hips))
        uptake = uptake + (0.9 if j == 0 else 0.7) * hips
        if j == 1:  # posterior view: seen from behind, so mirrored
            uptake = uptake[:, ::-1]
        view = _poisson_view(rng, 36.0 * _blur(np.clip(uptake / 3.0, 0, 1), 1.6) * 3.0, 30.0, 0.55)
        canvas[:, j * panel_w : (j + 1) * panel_w] = view
    size = (spot, spot)
    fr = _Frame(cx=spot / 2, top=34, scale=0.56)
    p = _pelvis_uptake(size, fr, 2.0)
    hips = _hip_activity((spot, spot), fr, activity, _rng(seed, 5))
    uptake = (
        0.5 * p["pelvis"]
        + 0.45 * p["sacrum"]
        + 0.5 * p["spine"]
        + 0.45 * p["femur"]
        + 0.035 * p["body"]
        + 1.0 * hips
        + 2.2 * p["bladder"]
    )
    view = _poisson_view(rng, 60.0 * _blur(np.clip(uptake / 3.0, 0, 1), 4.5) * 3.0, 48.0, 0.7)
    x0, y0 = 2 * panel_w + 20, (height - spot) // 2
    canvas[y0 : y0 + spot, x0 : x0 + spot] = view
    canvas[y0 - 1, x0 - 1 : x0 + spot + 1] = 0.7
    canvas[y0 + spot, x0 - 1 : x0 + spot + 1] = 0.7
    canvas[y0 : y0 + spot, x0 - 1] = 0.7
    canvas[y0 : y0 + spot, x0 + spot] = 0.7
    canvas[:, panel_w] = np.minimum(canvas[:, panel_w], 0.85)
    out = _finish(canvas)
    _text(out, (8, 8), "ANT", fill=60, size=13)
    _text(out, (panel_w + 8, 8), "POST", fill=60, size=13)
    _text(out, (x0 + 8, y0 + 8), "ANT PELVIS", fill=60, size=13)
    return _label(out, light=True)


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
