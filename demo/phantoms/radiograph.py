"""The AP pelvis radiograph, and the phantoms by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
from PIL import Image

from .drawing import (
    SEVERITIES,
    Blob,
    FloatArray,
    PhantomError,
    _blob_mask,
    _blur,
    _check_bool,
    _check_int,
    _check_seed,
    _finish,
    _Frame,
    _label,
    _rng,
    _text,
    _texture,
    _zonal,
)
from .heterotopic import _arrow_specs, _draw_arrows, _ho_mask
from .pelvis import _pelvis_masks


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

    gas = _bowel_gas(_rng(seed, 3), shape)
    atten -= 0.1 * gas * np.clip(1.0 + 0.3 * trab, 0, 2)

    bone = _bone(m, trab, trab_v)

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


def _bowel_gas(g: np.random.Generator, shape: tuple[int, int]) -> FloatArray:
    """Bowel gas over the flanks and the rectosigmoid."""
    gas_blobs: list[Blob] = []
    for _ in range(int(g.integers(3, 7))):
        u = float(g.uniform(-300, 300))
        v = float(g.uniform(20, 300)) if abs(u) > 150 else float(g.uniform(300, 420))
        r = float(g.uniform(14, 34))
        gas_blobs.append((shape[1] / 2 + u, v, r, r * float(g.uniform(0.5, 0.8)), float(g.uniform(0, 180))))
    return _blur(_blob_mask(shape, gas_blobs, g, edge=3.0), 4)


def _rim(mask: FloatArray, radius: float) -> FloatArray:
    """The margin of a bone, denser than its inside."""
    return np.clip(2.2 * (1.0 - _blur(mask, radius)) - 0.1, 0, 1) * mask


def _bone(m: dict[str, FloatArray], trab: FloatArray, trab_v: FloatArray) -> FloatArray:
    """The attenuation of the pelvis (thin iliac fossae, denser margins, pillars, joint lines) and of the femora
    (cortex, medullary canal, trabecular groups)."""
    # pelvis: thin iliac fossae, denser margins, pillars and joint lines
    inn = m["innominate"]
    bone = inn * (0.11 + 0.02 * trab) + 0.26 * _rim(inn, 4) + 0.16 * _rim(inn, 18)
    bone += 0.22 * m["thick"] * inn + 0.26 * m["lines"] + 0.07 * m["faint_lines"]
    sac = m["sacrum"]
    bone += sac * (0.11 + 0.02 * trab) + 0.1 * _rim(sac, 5) - 0.07 * m["foramina"] * sac
    bone += 0.08 * m["sacral_ridges"] * sac - 0.08 * m["si_joint"] - 0.12 * m["joint_space"]
    vert = m["vertebrae"]
    bone += vert * (0.2 + 0.03 * trab) + 0.24 * _rim(vert, 4) + 0.18 * m["posterior"]

    # femora: cortex, medullary canal and trabecular groups
    fem = m["femur"]
    shaft = m["shaft"]
    bone += fem * (0.3 + 0.035 * trab_v) + 0.32 * _rim(fem, 6)
    bone += 0.36 * shaft * _rim(fem, 14) + 0.08 * m["trabecular_groups"] * fem
    bone -= 0.1 * m["canal"] + 0.06 * m["trochanter"] * fem
    return bone


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
