"""The grey slices' PNG writer: any decoder reads back the very pixels, as palette indices over a grey ramp."""

import io

import numpy as np
import PIL.Image
import pytest

from imaging.png import grey_palette_png


@pytest.mark.parametrize("shape", [(512, 512), (1, 1), (3, 700), (257, 2)])
def test_pillow_reads_back_the_same_grey_levels(shape):
    pixels = np.random.default_rng(7).integers(0, 256, size=shape, dtype=np.uint8)
    picture = PIL.Image.open(io.BytesIO(grey_palette_png(pixels)))
    picture.load()
    assert picture.mode == "P" and picture.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(picture), pixels), "index i"
    assert np.array_equal(np.asarray(picture.convert("L")), pixels), "is grey level i"


def test_a_flat_slice_compresses_and_the_file_checks_out():
    png = grey_palette_png(np.full((512, 512), 40, dtype=np.uint8))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")
    assert len(png) < 5000
    PIL.Image.open(io.BytesIO(png)).verify()  # the chunks' CRCs


@pytest.mark.parametrize(
    "pixels", [np.zeros((4, 4), np.uint16), np.zeros((4, 4, 3), np.uint8), np.zeros((0, 4), np.uint8)]
)
def test_what_is_not_an_8_bit_grey_picture_is_refused(pixels):
    with pytest.raises(ValueError):
        grey_palette_png(pixels)
