"""Shapes as approximate signed distance functions, composited into layers and cut or projected onto
planes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .common import Box, FloatArray, Vec

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
