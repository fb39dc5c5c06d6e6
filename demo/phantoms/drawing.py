"""Drawing tools of the phantoms: option checks, seeded noise, blur, masks from painted shapes, texture,
smooth outlines and the burned-in label."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

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
