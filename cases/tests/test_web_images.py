"""Uploads: PNG and JPEG only, re-encoded without metadata, bombs and damaged files refused."""

import io

import PIL.Image
import pytest

from cases.tests.factories import png_bytes
from cases.web_images import UnusableImage, prepare_web_image

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 4_000_000}


def jpeg_with_exif() -> io.BytesIO:
    picture = PIL.Image.new("RGB", (120, 80), (90, 90, 90))
    exif = PIL.Image.Exif()
    exif[0x010F] = "ScannerMaker"  # Make
    exif[0x9286] = "Patient John Doe MRN 12345"  # UserComment
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", exif=exif.tobytes())
    buffer.seek(0)
    return buffer


def test_png_is_kept_as_png_with_a_jpeg_thumbnail():
    prepared = prepare_web_image(png_bytes((800, 600)), **LIMITS)
    assert prepared.web.name.endswith(".png")
    assert prepared.thumbnail.name.endswith(".jpg")
    assert (prepared.width, prepared.height) == (800, 600)
    assert max(PIL.Image.open(prepared.thumbnail).size) == 360


def test_exif_is_stripped():
    upload = jpeg_with_exif()
    assert b"John Doe" in upload.getvalue()
    prepared = prepare_web_image(upload, **LIMITS)
    data = prepared.web.read()
    assert b"John Doe" not in data and b"ScannerMaker" not in data
    assert not PIL.Image.open(io.BytesIO(data)).getexif()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not an image at all", "not a PNG or JPEG"),
        (b"GIF89a" + bytes(64), "not a PNG or JPEG"),
    ],
)
def test_non_images_are_refused_with_a_reason(payload, message):
    upload = io.BytesIO(payload)
    upload.size = len(payload)
    with pytest.raises(UnusableImage, match=message):
        prepare_web_image(upload, **LIMITS)


def test_gif_is_refused_as_unsupported_format():
    buffer = io.BytesIO()
    PIL.Image.new("L", (10, 10)).save(buffer, format="GIF")
    buffer.seek(0)
    with pytest.raises(UnusableImage, match="Only PNG and JPEG"):
        prepare_web_image(buffer, **LIMITS)


def test_truncated_jpeg_is_refused():
    whole = io.BytesIO()
    noise = PIL.Image.effect_noise((400, 300), 60)
    noise.save(whole, format="JPEG", quality=95)
    truncated = io.BytesIO(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(UnusableImage, match="truncated"):
        prepare_web_image(truncated, **LIMITS)


def test_decompression_bomb_is_refused_before_decoding():
    bomb = io.BytesIO()
    PIL.Image.new("1", (4000, 4000)).save(bomb, format="PNG")  # 16 Mpx in a few kB
    bomb.seek(0)
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(UnusableImage, match="too large"):
        prepare_web_image(bomb, **LIMITS)


def test_oversized_file_is_refused_by_size():
    upload = png_bytes()
    upload.size = 11 * 1024 * 1024
    with pytest.raises(UnusableImage, match="larger than 10 MB"):
        prepare_web_image(upload, **LIMITS)


def test_sixteen_bit_png_is_scaled_to_eight_bits():
    buffer = io.BytesIO()
    PIL.Image.linear_gradient("L").resize((256, 256)).convert("I").point(lambda v: v * 200).convert("I;16").save(
        buffer, format="PNG"
    )
    buffer.seek(0)
    prepared = prepare_web_image(buffer, **LIMITS)
    picture = PIL.Image.open(prepared.web)
    assert picture.mode == "L"
    assert picture.getextrema() == (0, 255)
