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
SEVERITIES = range(4)


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


def _label(img: Image.Image) -> Image.Image:
    """Burn the small outlined synthetic-data label into the bottom-right corner."""
    fill, outline = LABEL_ON_DARK
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
# registry


PHANTOMS: dict[str, Callable[..., Image.Image]] = {
    "pelvis_radiograph": pelvis_radiograph,
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
