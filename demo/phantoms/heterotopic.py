"""Heterotopic ossification around the hips, and the arrows that point at it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .drawing import Blob, FloatArray, Point, Target, _blob_mask, _blur, _finish, _Frame
from .pelvis import SIDES


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
