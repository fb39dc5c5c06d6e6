"""Tests for the synthetic demo-image phantoms; plain pytest, no database."""

from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

from cases import phantoms
from cases.phantoms import PHANTOMS, PhantomError, render

# (name, options, expected size as (width, height))
CASES = [
    ("pelvis_radiograph", {"severity": 2, "arrows": True}, (1024, 860)),
    ("pelvis_ct", {"severity": 1, "level": "acetabulum"}, (512, 512)),
    ("pelvis_ct", {"severity": 3, "level": "femoral_neck"}, (512, 512)),
    ("pelvis_mr", {"severity": 2, "sequence": "T1"}, (512, 512)),
    ("pelvis_mr", {"severity": 0, "sequence": "STIR"}, (512, 512)),
    ("bone_scan", {"phase": "flow", "activity": 2}, (1024, 512)),
    ("bone_scan", {"phase": "blood_pool", "activity": 1}, (512, 512)),
    ("bone_scan", {"phase": "delayed", "activity": 3}, (1200, 960)),
]
CASE_IDS = [f"{name}-{'-'.join(str(v) for v in options.values())}" for name, options, _ in CASES]


@lru_cache(maxsize=64)
def _pixels(name: str, **options: object) -> np.ndarray:
    """Render once per option set and return the pixels as a read-only int array."""
    pixels = np.asarray(render(name, **options), dtype=np.int16)
    pixels.setflags(write=False)
    return pixels


def _bright(pixels: np.ndarray, box: tuple[int, int, int, int], threshold: int) -> int:
    """Count pixels above threshold inside box = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    return int((pixels[y0:y1, x0:x1] > threshold).sum())


def _mean(pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Return the mean pixel value inside box = (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    return float(pixels[y0:y1, x0:x1].mean())


def test_registry_holds_the_four_phantoms_and_render_uses_it():
    assert set(PHANTOMS) == {"pelvis_radiograph", "pelvis_ct", "pelvis_mr", "bone_scan"}
    assert phantoms.PHANTOMS is PHANTOMS
    assert all(callable(factory) for factory in PHANTOMS.values())


@pytest.mark.parametrize(("name", "options", "size"), CASES, ids=CASE_IDS)
def test_each_phantom_is_greyscale_with_the_expected_size(name, options, size):
    image = render(name, **options)
    assert image.mode == "L"
    assert image.size == size


@pytest.mark.parametrize(("name", "options", "size"), CASES, ids=CASE_IDS)
def test_same_options_give_byte_identical_images(name, options, size):
    first = render(name, **options, seed=7)
    second = PHANTOMS[name](**options, seed=7)
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize(("name", "options", "size"), CASES, ids=CASE_IDS)
def test_a_different_seed_changes_the_pixels(name, options, size):
    first = np.asarray(render(name, **options, seed=1), dtype=np.int16)
    second = np.asarray(render(name, **options, seed=2), dtype=np.int16)
    assert first.shape == second.shape
    assert (first != second).mean() > 0.01


@pytest.mark.parametrize(("name", "options", "size"), CASES, ids=CASE_IDS)
def test_every_image_carries_the_burned_in_label_in_the_bottom_right_corner(name, options, size):
    light = name == "bone_scan"  # nuclear medicine: dark label on a white background
    reference = Image.new("L", size, 128)
    phantoms._label(reference, light=light)
    expected = np.asarray(reference, dtype=np.int16)
    # pixels the outlined text covers completely look the same on any background
    solid = np.isin(expected, phantoms.LABEL_ON_LIGHT if light else phantoms.LABEL_ON_DARK)
    assert solid.sum() >= 30
    ys, xs = np.nonzero(solid)
    assert ys.min() > size[1] - 25 and xs.min() > size[0] - 90
    assert np.array_equal(_pixels(name, **options)[solid], expected[solid])


def test_defaults_render_without_options():
    for name in PHANTOMS:
        assert render(name).mode == "L"


# hip regions lateral and superior to both hip joints, as (x0, y0, x1, y1)
RADIOGRAPH_HIPS = [(72, 330, 232, 560), (792, 330, 952, 560)]
CT_HIPS = [(41, 150, 126, 330), (386, 150, 471, 330)]
MR_HIPS = [(21, 150, 116, 290), (396, 150, 491, 290)]


def test_radiograph_severity_3_has_more_bright_bone_around_both_hips_than_severity_0():
    none = _pixels("pelvis_radiograph", severity=0)
    severe = _pixels("pelvis_radiograph", severity=3)
    for box in RADIOGRAPH_HIPS:
        assert _bright(severe, box, 120) > _bright(none, box, 120) + 4000


def test_radiograph_new_bone_grows_with_severity():
    counts = [sum(_bright(_pixels("pelvis_radiograph", severity=s), b, 120) for b in RADIOGRAPH_HIPS) for s in range(4)]
    assert counts == sorted(counts)
    assert counts[0] < counts[1] < counts[3]


@pytest.mark.parametrize("level", ["acetabulum", "femoral_neck"])
def test_ct_severity_3_has_more_bright_bone_around_both_hips_than_severity_0(level):
    none = _pixels("pelvis_ct", severity=0, level=level)
    severe = _pixels("pelvis_ct", severity=3, level=level)
    for box in CT_HIPS:
        assert _bright(severe, box, 200) > _bright(none, box, 200) + 300


def test_ct_levels_show_different_anatomy():
    acetabulum = _pixels("pelvis_ct", severity=0, level="acetabulum")
    neck = _pixels("pelvis_ct", severity=0, level="femoral_neck")
    assert (acetabulum != neck).mean() > 0.05


def test_mr_t1_masses_have_bright_marrow_and_stir_shows_bright_oedema():
    for sequence, threshold, margin in (("T1", 150, 500), ("STIR", 150, 100)):
        none = _pixels("pelvis_mr", severity=0, sequence=sequence)
        severe = _pixels("pelvis_mr", severity=3, sequence=sequence)
        for box in MR_HIPS:
            assert _bright(severe, box, threshold) > _bright(none, box, threshold) + margin


def test_mr_stir_suppresses_fat_relative_to_t1():
    t1 = _pixels("pelvis_mr", severity=0, sequence="T1")
    stir = _pixels("pelvis_mr", severity=0, sequence="STIR")
    subcutaneous_fat = (28, 230, 40, 300)  # lateral to the left hip
    assert _mean(t1, subcutaneous_fat) > 180
    assert _mean(stir, subcutaneous_fat) < 60


def test_arrows_change_only_a_small_fraction_of_the_radiograph():
    plain = _pixels("pelvis_radiograph", severity=2, arrows=False)
    marked = _pixels("pelvis_radiograph", severity=2, arrows=True)
    changed = plain != marked
    assert 0.001 < changed.mean() < 0.03
    # arrows are white with a dark outline
    assert (marked[changed] > 240).sum() > 500
    assert (marked[changed] < 30).sum() > 200


def test_arrows_sit_near_the_hips_on_both_sides():
    plain = _pixels("pelvis_radiograph", severity=3, arrows=False)
    marked = _pixels("pelvis_radiograph", severity=3, arrows=True)
    changed = plain != marked
    left, right = changed[:, :512], changed[:, 512:]
    assert left.sum() > 300 and right.sum() > 300
    rows = np.nonzero(changed.any(axis=1))[0]
    assert rows.min() > 250 and rows.max() < 650


# delayed layout: anterior and posterior whole-body panels (300 px each), then a
# 560 px pelvic spot view at x = 620, y = 200
DELAYED_HIPS = {
    "spot": [(645, 440, 745, 540), (1057, 440, 1157, 540)],
    "anterior": [(40, 455, 90, 505), (210, 455, 260, 505)],
    "posterior": [(340, 455, 390, 505), (510, 455, 560, 505)],
}


def test_bone_scan_delayed_activity_3_is_darker_around_the_hips_than_activity_0():
    cold = _pixels("bone_scan", phase="delayed", activity=0)
    hot = _pixels("bone_scan", phase="delayed", activity=3)
    for view, boxes in DELAYED_HIPS.items():
        for box in boxes:
            assert _mean(hot, box) < _mean(cold, box) - 40, view


def test_bone_scan_is_black_counts_on_white():
    delayed = _pixels("bone_scan", phase="delayed", activity=0)
    assert _mean(delayed, (650, 20, 1150, 80)) > 250  # empty background
    assert _mean(delayed, (880, 560, 920, 600)) < 40  # hot bladder in the spot view


def test_bone_scan_blood_pool_and_flow_show_hyperaemia_with_activity():
    cold = _pixels("bone_scan", phase="blood_pool", activity=0)
    hot = _pixels("bone_scan", phase="blood_pool", activity=3)
    for box in ((20, 200, 120, 320), (392, 200, 492, 320)):
        assert _mean(hot, box) < _mean(cold, box) - 20
    cold = _pixels("bone_scan", phase="flow", activity=0)
    hot = _pixels("bone_scan", phase="flow", activity=3)
    last_frame_hips = [(778, 346, 838, 406), (954, 346, 1014, 406)]
    for box in last_frame_hips:
        assert _mean(hot, box) < _mean(cold, box) - 30


def test_bone_scan_flow_fills_up_over_the_eight_frames():
    flow = _pixels("bone_scan", phase="flow", activity=1)
    tiles = [flow[r * 256 : (r + 1) * 256, c * 256 : (c + 1) * 256] for r in range(2) for c in range(4)]
    darkness = [255 - float(tile[30:230, 30:230].mean()) for tile in tiles]
    assert darkness[0] < darkness[3] < darkness[7]


def test_unknown_phantom_name_raises():
    with pytest.raises(PhantomError, match="unknown phantom"):
        render("pelvis_ultrasound")
    assert issubclass(PhantomError, ValueError)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("pelvis_radiograph", {"severity": 4}),
        ("pelvis_radiograph", {"severity": -1}),
        ("pelvis_radiograph", {"severity": "2"}),
        ("pelvis_radiograph", {"severity": 2.0}),
        ("pelvis_radiograph", {"severity": True}),
        ("pelvis_radiograph", {"arrows": "yes"}),
        ("pelvis_radiograph", {"level": "acetabulum"}),
        ("pelvis_radiograph", {"seed": -1}),
        ("pelvis_radiograph", {"seed": 1.5}),
        ("pelvis_ct", {"level": "knee"}),
        ("pelvis_ct", {"arrows": True}),
        ("pelvis_mr", {"sequence": "T2"}),
        ("pelvis_mr", {"sequence": "t1"}),
        ("bone_scan", {"phase": "late"}),
        ("bone_scan", {"activity": 5}),
        ("bone_scan", {"severity": 2}),
    ],
)
def test_bad_options_raise_phantom_error(name, options):
    with pytest.raises(PhantomError):
        render(name, **options)


def test_phantom_functions_validate_their_own_options():
    with pytest.raises(PhantomError):
        PHANTOMS["pelvis_ct"](severity=7)
    with pytest.raises(PhantomError):
        PHANTOMS["bone_scan"](phase="static")
