"""The bones and soft tissue of the AP pelvis, as masks in the radiograph's frame."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PIL import ImageDraw

from .drawing import Blob, FloatArray, Point, _arc_pts, _chaikin, _Frame, _mask, _stroke

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
    masks = {}
    for key in keys:
        paint, part_blur = PAINTERS[key]
        masks[key] = _mask(size, partial(paint, fr=fr), part_blur(blur, fr.scale))
    return masks


def _paint_body(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    half = _BODY_LATERAL + _BODY_MEDIAL
    d.polygon(fr.poly(half, -1) + fr.poly(half[::-1], 1), fill=255)


def _paint_innominate(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    for s in SIDES:
        d.polygon(fr.poly(_chaikin(_ILIUM, 2), s), fill=255)
        d.polygon(fr.poly(_chaikin(_OBTURATOR), s), fill=0)


def _paint_sacrum(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    d.polygon(_chaikin(fr.sym(_SACRUM_HALF), 2), fill=255)
    for blob in _COCCYX:
        d.polygon(fr.ellipse(blob, 1), fill=255)


def _paint_foramina(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    for s in SIDES:
        for u, v, r in _SACRAL_FORAMINA:
            d.polygon(fr.ellipse((u, v, r, r * 1.1, 0), s), fill=255)


def _paint_vertebrae(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    for half in _VERTEBRA_HALVES:
        d.polygon(_chaikin(fr.sym(half), 2), fill=255)


def _paint_posterior(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    for blob in _SPINOUS:
        d.polygon(fr.ellipse(blob, 1), fill=255)
    for s in SIDES:
        for p0, p1, w in _TRANSVERSE:
            _stroke(d, fr.poly([p0, p1], s), w * sc)
        for blob in _PEDICLES:
            d.polygon(fr.ellipse(blob, s), outline=255, width=max(1, round(4 * sc)))


def _paint_femur(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    u, v = HEAD_UV
    for s in SIDES:
        d.polygon(fr.ellipse((u, v, HEAD_R, HEAD_R, 0), s, n=96), fill=255)
        d.polygon(fr.poly(_chaikin(_PROXIMAL_FEMUR, 2), s), fill=255)


def _paint_shaft(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    for s in SIDES:
        d.polygon(fr.poly(_chaikin(_SHAFT, 2), s), fill=255)


def _paint_canal(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    for s in SIDES:
        d.polygon(fr.poly(_chaikin(_CANAL, 2), s), fill=255)


def _paint_trochanter(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    for s in SIDES:
        d.polygon(fr.ellipse(_GREATER_TROCHANTER, s), fill=255)


def _paint_trabecular_groups(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    for s in SIDES:
        _stroke(d, fr.poly(_COMPRESSIVE, s), 30 * sc)
        _stroke(d, fr.poly(_TENSILE, s), 14 * sc)


def _paint_lines(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    u, v = HEAD_UV
    for s in SIDES:
        _stroke(d, fr.poly(_BRIM, s), 5 * sc)
        _stroke(d, fr.poly(_ILIOISCHIAL, s), 4 * sc)
        _stroke(d, fr.poly(_TEARDROP, s), 5 * sc)
        _stroke(d, fr.poly(_arc_pts(u, v, HEAD_R + 7, 196, 306), s), 7 * sc)
        _stroke(d, fr.poly(_CREST, s), 6 * sc)


def _paint_faint_lines(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    for s in SIDES:
        _stroke(d, fr.poly(_POSTERIOR_WALL, s), 3 * sc)
        _stroke(d, fr.poly(_ANTERIOR_WALL, s), 3 * sc)


def _paint_thick(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    for s in SIDES:
        d.polygon(fr.ellipse(_SUPRA_ACETABULAR, s), fill=255)
        _stroke(d, fr.poly(_PILLAR, s), 40 * sc)
        _stroke(d, fr.poly(_SI_JOINT, s), 40 * sc)


def _paint_si_joint(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    for s in SIDES:
        _stroke(d, fr.poly(_SI_JOINT, s), 4 * sc)


def _paint_sacral_ridges(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    for v, hw in ((252, 84), (318, 62), (362, 54), (404, 44), (444, 30)):
        _stroke(d, [fr.xy(hw, v, -1), fr.xy(0, v + 5, 1), fr.xy(hw, v, 1)], 3 * sc)
    _stroke(d, [fr.xy(0, 270, 1), fr.xy(0, 500, 1)], 5 * sc)


def _paint_joint_space(d: ImageDraw.ImageDraw, fr: _Frame) -> None:
    sc = fr.scale
    u, v = HEAD_UV
    for s in SIDES:
        _stroke(d, fr.poly(_arc_pts(u, v, HEAD_R + 3.5, 200, 300), s), 5 * sc)


# Each part's painter, and its blur from the frame's blur and scale.
PAINTERS: dict[str, tuple[Callable[[ImageDraw.ImageDraw, _Frame], None], Callable[[float, float], float]]] = {
    "body": (_paint_body, lambda blur, sc: blur * 2),
    "innominate": (_paint_innominate, lambda blur, sc: blur),
    "sacrum": (_paint_sacrum, lambda blur, sc: blur),
    "foramina": (_paint_foramina, lambda blur, sc: blur * 1.5),
    "vertebrae": (_paint_vertebrae, lambda blur, sc: blur),
    "posterior": (_paint_posterior, lambda blur, sc: blur * 1.5),
    "femur": (_paint_femur, lambda blur, sc: blur),
    "shaft": (_paint_shaft, lambda blur, sc: blur + 24 * sc),
    "canal": (_paint_canal, lambda blur, sc: blur + 12 * sc),
    "trochanter": (_paint_trochanter, lambda blur, sc: blur + 12 * sc),
    "trabecular_groups": (_paint_trabecular_groups, lambda blur, sc: blur + 8 * sc),
    "lines": (_paint_lines, lambda blur, sc: blur + 0.5),
    "faint_lines": (_paint_faint_lines, lambda blur, sc: blur + 0.5 + sc),
    "thick": (_paint_thick, lambda blur, sc: blur + 16 * sc),
    "si_joint": (_paint_si_joint, lambda blur, sc: blur),
    "sacral_ridges": (_paint_sacral_ridges, lambda blur, sc: blur + 1.0),
    "joint_space": (_paint_joint_space, lambda blur, sc: blur),
}
