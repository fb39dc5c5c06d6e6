"""Tests for the synthetic demo-image phantoms; plain pytest, no database."""

from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

from demo import phantoms
from demo.phantoms import PHANTOMS, PhantomError, drawing, render

# (name, options, expected size as (width, height))
CASES = [
    ("pelvis_radiograph", {"severity": 2, "arrows": True}, (1024, 860)),
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


def test_registry_holds_the_radiograph_phantom_and_render_uses_it():
    assert set(PHANTOMS) == {"pelvis_radiograph"}
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
    reference = Image.new("L", size, 128)
    drawing._label(reference)
    expected = np.asarray(reference, dtype=np.int16)
    # pixels the outlined text covers completely look the same on any background
    solid = np.isin(expected, phantoms.LABEL_ON_DARK)
    assert solid.sum() >= 30
    ys, xs = np.nonzero(solid)
    assert ys.min() > size[1] - 25 and xs.min() > size[0] - 90
    assert np.array_equal(_pixels(name, **options)[solid], expected[solid])


def test_defaults_render_without_options():
    for name in PHANTOMS:
        assert render(name).mode == "L"


# hip regions lateral and superior to both hip joints, as (x0, y0, x1, y1)
RADIOGRAPH_HIPS = [(72, 330, 232, 560), (792, 330, 952, 560)]


def test_radiograph_severity_3_has_more_bright_bone_around_both_hips_than_severity_0():
    none = _pixels("pelvis_radiograph", severity=0)
    severe = _pixels("pelvis_radiograph", severity=3)
    for box in RADIOGRAPH_HIPS:
        assert _bright(severe, box, 120) > _bright(none, box, 120) + 4000


def test_radiograph_new_bone_grows_with_severity():
    counts = [sum(_bright(_pixels("pelvis_radiograph", severity=s), b, 120) for b in RADIOGRAPH_HIPS) for s in range(4)]
    assert counts == sorted(counts)
    assert counts[0] < counts[1] < counts[3]


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
    ],
)
def test_bad_options_raise_phantom_error(name, options):
    with pytest.raises(PhantomError):
        render(name, **options)


def test_phantom_functions_validate_their_own_options():
    with pytest.raises(PhantomError):
        PHANTOMS["pelvis_radiograph"](severity=7)
    with pytest.raises(PhantomError):
        PHANTOMS["pelvis_radiograph"](arrows="yes")
