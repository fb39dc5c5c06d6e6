"""The 3-D model of the pelvis with heterotopic ossification, and each tissue's value per modality."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .common import FloatArray, Vec
from .geometry import (
    Palette,
    _Anterior,
    _Capsule,
    _Carved,
    _chain,
    _Cup,
    _Cylinder,
    _Ellipsoid,
    _Inset,
    _Layer,
    _layer,
    _Lumpy,
    _OnTable,
    _rotation,
    _Scene,
    _Shape,
    _Table,
)

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
        *_muscle_layers(),
        *_pelvic_organ_layers(seed),
        *_vessel_layers(),
        *_ho_layers(seed, severity),
        *_spine_layers(),
        *_hip_layers(),
    ]
    return _Scene(tuple(body), tuple(layers))


def _muscle_layers() -> list[_Layer]:
    """The fat planes between the muscles, then the deep muscles."""
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
    layers = [_layer("fat", planes, within=10.0)]
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
    return layers


def _pelvic_organ_layers(seed: int) -> list[_Layer]:
    """The bladder and the bowel (its own random stream)."""
    bladder = _Ellipsoid((0, -38, -8), (44, 33, 32))
    layers = [_layer("bladder_wall", [bladder]), _layer("urine", [_Inset(bladder, 3.0)])]
    walls, contents, gas = _bowel(np.random.default_rng([seed, 102]))
    layers += [_layer("bowel_wall", walls), _layer("bowel", contents), _layer("gas", gas)]
    return layers


def _vessel_layers() -> list[_Layer]:
    """The iliac and femoral arteries and veins, each in its sheath of fat."""
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
    return [_layer("fat", sheaths), _layer("artery", arteries), _layer("vein", veins)]


def _ho_layers(seed: int, severity: int) -> list[_Layer]:
    """The heterotopic ossification, with the oedema round it once it is marked."""
    layers: list[_Layer] = []
    ho = _ho_shapes(seed, severity)
    if severity >= 2:
        reach = 8.0 + 6.0 * severity  # oedema fades from the surface of the new bone out to this distance
        layers.append(_layer("oedema", ho, inset=-reach / 2, within=6.0, edge=reach))
    if ho:
        layers += [_layer("ho_rim", ho), _layer("ho_core", ho, inset=3.0)]
    return layers


def _spine_layers() -> list[_Layer]:
    """The lumbar spine with its discs and canal, and the sacrum."""
    layers = [_layer("csf", [_Capsule((0, 60, 300), (0, 61, 118), 9.0, 8.0)])]
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
    return layers


def _hip_layers() -> list[_Layer]:
    """The hip bones, the hip joints' cartilage and the femora."""
    pelvis = _innominate(-1) + _innominate(1)
    layers = [_layer("cortex", pelvis), _layer("trabecular", pelvis, inset=1.8)]
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
    return layers


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
