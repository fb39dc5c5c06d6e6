"""Tests for imaging.render: stored values → real-world values → display pixels → web images."""

import io
from pathlib import Path

import numpy as np
import PIL.Image
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import convert_color_space
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.render import (
    RenderError,
    is_monochrome1,
    iter_frames,
    modality_lut,
    render_dataset,
    render_frame,
    to_display,
)
from imaging.sources import Source
from imaging.values import compact_values, expand_values, frame_values, values_dtype
from imaging.windows import BONE, BRAIN, SOFT_TISSUE, Window, default_window, presets_for

TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"


def bundled(name: str) -> Dataset:
    return pydicom.dcmread(get_testdata_file(name, download=False))


def make_grey(pixels: np.ndarray, **attributes) -> Dataset:
    """Return a grey-scale dataset holding pixels (int16 unless given otherwise)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = pixels.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = pixels.tobytes()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def make_colour(pixels: np.ndarray, photometric: str) -> Dataset:
    ds = make_grey(np.zeros((1, 1), np.uint8))
    ds.Modality = "US"
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, photometric, 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = pixels.astype(np.uint8).tobytes()
    return ds


def linear_voi(x: float, center: float, width: float) -> int:
    """The LINEAR VOI function of PS3.3 C.11.2.1.2.1, written out for one value."""
    if x <= center - 0.5 - (width - 1) / 2:
        return 0
    if x > center - 0.5 + (width - 1) / 2:
        return 255
    return round(((x - (center - 0.5)) / (width - 1) + 0.5) * 255)


# stored CT values with intercept -1024: air, fat, water, soft tissue, cancellous bone, cortex, dense cortex, metal
STORED = np.array([[0, 924, 1024, 1064], [1424, 2024, 2224, 4024]], dtype=np.int16)
HU = STORED.astype(np.float32) - 1024


def ct_dataset(**attributes) -> Dataset:
    return make_grey(STORED, RescaleSlope=1, RescaleIntercept=-1024, **attributes)


# --------------------------------------------------------------------------
# Modality LUT and VOI window


def test_modality_lut_rescales_to_hounsfield_units():
    values = modality_lut(STORED, ct_dataset())
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, HU)


def test_modality_lut_with_slope():
    ds = make_grey(np.array([[0, 10]], np.uint16), RescaleSlope="0.5", RescaleIntercept="-3")
    np.testing.assert_array_equal(modality_lut(np.array([[0, 10]], np.uint16), ds), [[-3.0, 2.0]])


def test_modality_lut_sequence_is_applied():
    item = Dataset()
    item.LUTDescriptor = [4, 0, 16]
    item.LUTData = [100, 200, 300, 400]
    item.ModalityLUTType = "HU"
    stored = np.array([[0, 1, 2, 3]], np.uint16)
    ds = make_grey(stored, ModalityLUTSequence=[item])
    np.testing.assert_array_equal(modality_lut(stored, ds), [[100, 200, 300, 400]])


def test_enhanced_rescale_comes_from_functional_groups():
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 1, -1024, "HU"
    shared = Dataset()
    shared.PixelValueTransformationSequence = [transform]
    ds = make_grey(STORED, SharedFunctionalGroupsSequence=[shared])
    np.testing.assert_array_equal(modality_lut(STORED, ds), HU)


@pytest.mark.parametrize("window", [SOFT_TISSUE, BONE, BRAIN, Window(40, 1)], ids=lambda w: w.name or "1-wide")
def test_ct_window_matches_the_standard_linear_function(window):
    pixels = to_display(modality_lut(STORED, ct_dataset()), ct_dataset(), window)
    expected = [[linear_voi(x, window.center, window.width) for x in row] for row in HU.tolist()]
    assert pixels.dtype == np.uint8
    np.testing.assert_allclose(pixels, expected, atol=1)


def test_bone_window_separates_what_the_soft_tissue_window_clips():
    values = modality_lut(STORED, ct_dataset())
    soft = to_display(values, ct_dataset(), SOFT_TISSUE)
    bone = to_display(values, ct_dataset(), BONE)
    cancellous, cortex, dense = values[1, 0], values[1, 1], values[1, 2]
    assert (cancellous, cortex, dense) == (400, 1000, 1200)
    assert soft[1, 0] == soft[1, 1] == soft[1, 2] == 255
    assert bone[1, 0] < bone[1, 1] < bone[1, 2] < 255
    assert soft[0, 2] < soft[0, 3]  # water and soft tissue stay apart in the soft-tissue window
    assert (soft[0, 0], soft[0, 3]) == (0, 128)


def test_monochrome1_is_inverted():
    values = modality_lut(STORED, ct_dataset())
    mono2 = to_display(values, ct_dataset(), BONE)
    mono1 = to_display(values, ct_dataset(PhotometricInterpretation="MONOCHROME1"), BONE)
    np.testing.assert_array_equal(mono1, 255 - mono2)
    assert mono1[0, 0] == 255  # air is white on a MONOCHROME1 radiograph


def test_monochrome1_is_told_apart_for_the_viewer():
    assert is_monochrome1(ct_dataset(PhotometricInterpretation="MONOCHROME1"))
    assert not is_monochrome1(ct_dataset())


def test_invert_option_shows_nuclear_medicine_black_on_white():
    counts = np.array([[0, 50, 100]], np.uint16)
    ds = make_grey(counts, Modality="NM")
    pixels = to_display(modality_lut(counts, ds), ds, Window(50.5, 101), invert=True)
    assert pixels[0, 0] == 255 and pixels[0, 2] == 0


def test_linear_exact_and_sigmoid_voi_functions():
    values = np.array([[-100, 40, 180]], np.float32)
    exact = to_display(values, make_grey(np.zeros((1, 3), np.int16), VOILUTFunction="LINEAR_EXACT"), Window(40, 280))
    np.testing.assert_array_equal(exact, [[0, 128, 255]])
    sigmoid = to_display(values, make_grey(np.zeros((1, 3), np.int16), VOILUTFunction="SIGMOID"), Window(40, 280))
    assert sigmoid[0, 0] < 40 and sigmoid[0, 1] == 128 and sigmoid[0, 2] > 215


def test_default_window_prefers_the_file_then_the_ct_preset_then_percentiles():
    values = modality_lut(STORED, ct_dataset())
    assert default_window(ct_dataset(WindowCenter=[300, 40], WindowWidth=[1500, 400]), values) == Window(300, 1500)
    assert default_window(ct_dataset(), values) == SOFT_TISSUE
    assert default_window(ct_dataset(BodyPartExamined="HEAD"), values) == BRAIN
    assert default_window(ct_dataset(WindowCenter=40, WindowWidth=0), values) == SOFT_TISSUE  # width 0 is invalid

    ramp = np.arange(10_000, dtype=np.float32).reshape(100, 100)
    window = default_window(make_grey(np.zeros((1, 1), np.uint16), Modality="MR"), ramp)
    assert window.name == "auto"
    assert window.center - window.width / 2 == pytest.approx(99.99, abs=0.5)
    assert window.center + window.width / 2 == pytest.approx(9899.01, abs=0.5)


def test_presets_by_modality_and_body_part():
    assert presets_for(ct_dataset())[0] == SOFT_TISSUE
    assert presets_for(ct_dataset(BodyPartExamined="HEAD"))[0] == BRAIN
    assert presets_for(ct_dataset(BodyPartExamined="CHEST"))[0].name == "lung"
    assert presets_for(make_grey(np.zeros((1, 1), np.uint16), Modality="MR")) == []


# --------------------------------------------------------------------------
# colour


def test_rgb_passes_through():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3)).astype(np.uint8)
    pixels = to_display(rgb, make_colour(rgb, "RGB"), None)
    np.testing.assert_array_equal(pixels, rgb)


def test_ybr_full_is_converted_to_rgb():
    rgb = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [128, 128, 128]]], np.uint8)
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    assert not np.array_equal(ybr, rgb)
    pixels = to_display(ybr, make_colour(ybr, "YBR_FULL"), None)
    np.testing.assert_allclose(pixels, rgb, atol=2)


def test_ybr_jpeg_frames_match_the_rgb_encoding_of_the_same_picture():
    """dcmtk wrote one picture as RGB and as YBR_FULL JPEG: after decoding and conversion they agree."""
    rgb_ds, ybr_ds = bundled("SC_rgb_dcmtk_+eb+cr.dcm"), bundled("SC_rgb_dcmtk_+eb+cy+n1.dcm")
    rgb = to_display(next(iter_frames(rgb_ds)), rgb_ds, None)
    ybr_frame = next(iter_frames(ybr_ds))
    converted = to_display(ybr_frame, ybr_ds, None)
    assert np.abs(ybr_frame.astype(int) - rgb.astype(int)).mean() > 20  # the stored values really are YBR
    assert np.abs(converted.astype(int) - rgb.astype(int)).mean() < 3


def test_palette_colour_uses_the_file_palette():
    ds = bundled("examples_palette.dcm")
    frame = next(iter_frames(ds))
    pixels = to_display(frame, ds, None)
    assert pixels.shape == (*frame.shape, 3) and pixels.dtype == np.uint8

    first_mapped, bits = (
        int(ds.RedPaletteColorLookupTableDescriptor[1]),
        int(ds.RedPaletteColorLookupTableDescriptor[2]),
    )
    row, column = np.unravel_index(np.argmax(frame), frame.shape)
    stored = int(frame[row, column])
    for channel, colour in enumerate(("Red", "Green", "Blue")):
        table = np.frombuffer(getattr(ds, f"{colour}PaletteColorLookupTableData"), dtype="<u2")
        entry = int(table[max(0, stored - first_mapped)])
        assert pixels[row, column, channel] == (entry >> 8 if bits == 16 else entry)
    assert len({tuple(p) for p in pixels.reshape(-1, 3)[::97]}) > 10  # a real colour picture, not grey


def test_unknown_colour_model_is_a_render_error():
    with pytest.raises(RenderError, match="unsupported colour model"):
        to_display(np.zeros((2, 2, 3), np.uint8), make_colour(np.zeros((2, 2, 3)), "YBR_PARTIAL_420"), None)


# --------------------------------------------------------------------------
# frames


@pytest.mark.parametrize(("name", "frames"), [("examples_ybr_color.dcm", 30), ("rtdose.dcm", 15)])
def test_iter_frames_yields_every_frame_without_pixel_array(monkeypatch, name, frames):
    ds = bundled(name)

    def forbidden(self):
        raise AssertionError("pixel_array decodes every frame at once")

    monkeypatch.setattr(Dataset, "pixel_array", property(forbidden))
    shapes = [frame.shape[:2] for frame in iter_frames(ds)]
    assert len(shapes) == int(ds.NumberOfFrames) == frames
    assert set(shapes) == {(ds.Rows, ds.Columns)}


def test_undecodable_pixel_data_is_a_render_error():
    ds = bundled("MR_small_RLE.dcm")
    ds.PixelData = ds.PixelData[:40] + b"\x00" * (len(ds.PixelData) - 40)
    with pytest.raises(RenderError, match="could not be decoded"):
        next(iter_frames(ds))


# --------------------------------------------------------------------------
# web images


GREY_RAMP = [level for grey in range(256) for level in (grey, grey, grey)]


def open_image(data: bytes) -> PIL.Image.Image:
    """Open a rendered picture; a grey PNG is stored as indices over a grey ramp, and comes back as grey."""
    picture = PIL.Image.open(io.BytesIO(data))
    picture.load()
    if picture.mode == "P":
        assert picture.getpalette() == GREY_RAMP
        grey = picture.convert("L")
        grey.format = picture.format
        return grey
    return picture


def test_render_frame_returns_png_and_a_jpeg_thumbnail():
    ds = bundled("examples_overlay.dcm")  # MR 484 × 300 with its own window
    rendered = render_frame(next(iter_frames(ds)), ds)

    web, thumb = open_image(rendered.web), open_image(rendered.thumbnail)
    assert (web.format, web.mode, web.size) == ("PNG", "L", (ds.Columns, ds.Rows))
    assert (rendered.width, rendered.height) == (ds.Columns, ds.Rows)
    assert rendered.web_suffix == ".png"
    assert thumb.format == "JPEG" and max(thumb.size) == 360
    assert rendered.window == Window(float(ds.WindowCenter[0]), float(ds.WindowWidth[0]), "WINDOW1")
    assert rendered.pixel_spacing_mm == pytest.approx(float(ds.PixelSpacing[1]))


def test_render_frame_of_ct_uses_hounsfield_units():
    ds = ct_dataset()
    rendered = render_frame(STORED, ds, window=BONE)
    web = np.asarray(open_image(rendered.web))
    np.testing.assert_array_equal(web, to_display(HU, ds, BONE))


def test_large_image_is_scaled_to_max_side_and_spacing_follows():
    pixels = np.tile(np.arange(3000, dtype=np.uint16), (1000, 1))
    ds = make_grey(pixels, Modality="DX", ImagerPixelSpacing=[0.1, 0.1])
    rendered = render_frame(pixels, ds)
    assert (rendered.width, rendered.height) == (2048, 683)
    assert rendered.pixel_spacing_mm == pytest.approx(0.1 * 3000 / 2048)
    assert open_image(rendered.web).size == (2048, 683)
    assert max(open_image(rendered.thumbnail).size) == 360


def test_anisotropic_pixels_are_made_square():
    pixels = np.zeros((100, 200), np.uint16)
    ds = make_grey(pixels, Modality="NM", PixelSpacing=[4.0, 2.0])  # rows 4 mm apart, columns 2 mm
    rendered = render_frame(pixels, ds)
    assert (rendered.width, rendered.height) == (200, 200)
    assert rendered.pixel_spacing_mm == pytest.approx(2.0)


def test_colour_render_has_no_window():
    ds = bundled("examples_rgb_color.dcm")
    rendered = render_frame(next(iter_frames(ds)), ds)
    assert rendered.window is None
    assert open_image(rendered.web).mode == "RGB"


def test_multi_frame_without_a_window_shares_one_pooled_window():
    frames = np.stack([np.full((4, 4), 10 * (i + 1), np.uint16) for i in range(12)])
    frames[:, 0, 0] = 0
    ds = make_grey(frames, Modality="NM", NumberOfFrames=12)
    rendered = list(render_dataset(ds))
    assert len(rendered) == 12
    assert len({frame.window for frame in rendered}) == 1
    brightness = [int(np.asarray(open_image(frame.web))[1, 1]) for frame in rendered]
    assert brightness == sorted(brightness) and brightness[0] < brightness[-1]


# --------------------------------------------------------------------------
# values for live windowing


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (HU, "<i2"),
        (np.array([[-32768, 32767]], np.float32), "<i2"),
        (np.array([[0.5, 1.25]], np.float32), "<f4"),
        (np.array([[0, 40000]], np.float32), "<f4"),
        (np.array([[1, 2]], np.uint16), "<i2"),
    ],
)
def test_compact_values_round_trip(values, dtype):
    data = compact_values(values)
    assert values_dtype(values) == np.dtype(dtype)
    restored = expand_values(data, values.shape, values_dtype(values))
    np.testing.assert_array_equal(restored, values)


def test_compact_values_are_smaller_than_float32():
    values = modality_lut(next(iter_frames(bundled("CT_small.dcm"))), bundled("CT_small.dcm"))
    assert len(compact_values(values)) < values.size * 2


# --------------------------------------------------------------------------
# every bundled image pydicom ships


def accepted_files() -> list[Path]:
    """Return the bundled files read_dataset accepts (test_read checks the others' reasons)."""
    accepted = []
    for path in sorted(TEST_FILES.rglob("*")):
        if not path.is_file():
            continue
        try:
            read_dataset(Source(path.name, path.read_bytes()), limits=Limits())
        except UnreadableFile:
            continue
        accepted.append(path)
    return accepted


# Accepted files whose first frame no decoder can turn into pixels, with the reason the author sees.
RENDER_ERRORS = {
    # an item delimiter inside the JPEG 2000 codestream: both openjpeg and Pillow refuse the header
    "JPEG2000-embedded-sequence-delimiter.dcm": "the image data could not be decoded (JPEG 2000 Image Compression)",
}


@pytest.mark.parametrize("path", accepted_files(), ids=lambda path: path.relative_to(TEST_FILES).as_posix())
def test_every_accepted_bundled_file_renders_its_first_frame(path):
    ds = read_dataset(Source(path.name, path.read_bytes()), limits=Limits())
    name = path.relative_to(TEST_FILES).as_posix()
    try:
        rendered = next(render_dataset(ds))
    except RenderError as error:
        assert str(error) == RENDER_ERRORS.get(name)
        return
    assert name not in RENDER_ERRORS
    web = open_image(rendered.web)
    assert web.size == (rendered.width, rendered.height)
    assert web.mode in ("L", "RGB")
    assert max(open_image(rendered.thumbnail).size) <= 360


def test_frame_values_decode_the_frame_asked_for():
    pixels = np.stack([np.full((4, 6), frame * 10, dtype=np.int16) for frame in range(5)])
    ds = make_grey(pixels, NumberOfFrames=5, RescaleSlope=2, RescaleIntercept=-5)
    np.testing.assert_array_equal(frame_values(ds, 3, (6, 4)), np.full((4, 6), 3 * 10 * 2 - 5))
    with pytest.raises(RenderError, match="no such frame"):
        frame_values(ds, 5, (6, 4))


def with_garbage_above(stored: np.ndarray, bits_stored: int) -> np.ndarray:
    """Return 16-bit stored values whose bits above ``bits_stored`` are set at random, as some archives write."""
    noise = np.random.default_rng(3).integers(0, 2**16, stored.shape, dtype=np.uint16) & ~np.uint16(2**bits_stored - 1)
    return (stored.astype(np.uint16) & np.uint16(2**bits_stored - 1)) | noise


GRADIENT = (np.arange(64 * 48).reshape(48, 64) * 37 % 4096).astype(np.uint16)
SINGLE_GREY_FRAMES = {
    "CT, header window": lambda: make_grey(
        GRADIENT.astype(np.int16), RescaleIntercept=-1024, RescaleSlope=1, WindowCenter=40, WindowWidth=400
    ),
    "CT, preset window, slope 0.5": lambda: make_grey(
        GRADIENT.astype(np.int16), RescaleIntercept=-100, RescaleSlope=0.5
    ),
    "CT, 12 of 16 bits, garbage above": lambda: make_grey(
        with_garbage_above(GRADIENT, 12), BitsStored=12, HighBit=11, RescaleIntercept=-1024
    ),
    "signed 12 of 16 bits, garbage above": lambda: make_grey(
        with_garbage_above(GRADIENT, 12).view(np.int16), BitsStored=12, HighBit=11, PixelRepresentation=1
    ),
    "MR, 8 bits, header window": lambda: make_grey(
        (GRADIENT % 256).astype(np.uint8), Modality="MR", WindowCenter=100, WindowWidth=120
    ),
    "MONOCHROME1": lambda: make_grey(
        GRADIENT, PhotometricInterpretation="MONOCHROME1", WindowCenter=2000, WindowWidth=3000
    ),
    "LINEAR_EXACT, narrow": lambda: make_grey(
        GRADIENT, WindowCenter=1000.5, WindowWidth=0.5, VOILUTFunction="LINEAR_EXACT"
    ),
    "modality LUT sequence": lambda: _with_modality_lut(
        make_grey(GRADIENT % 1024, Modality="MR", WindowCenter=300, WindowWidth=500)
    ),
}


def _with_modality_lut(ds: Dataset) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [1024, 0, 16]
    item.LUTData = [(value * 3) % 2000 for value in range(1024)]
    item.ModalityLUTType = "US"
    ds.ModalityLUTSequence = [item]
    return ds


@pytest.mark.parametrize("invert", [False, True], ids=["as is", "inverted"])
@pytest.mark.parametrize("name", SINGLE_GREY_FRAMES)
def test_a_single_grey_frame_renders_without_the_decoder_to_the_same_pixels(monkeypatch, name, invert):
    """A native grey frame is looked up in a table of its stored values: pydicom's decoder is not called, and
    the picture is the one the decoder and the float maths give (unused high bits masked, sign extended)."""
    ds = SINGLE_GREY_FRAMES[name]()
    expected = render_frame(next(iter_frames(ds)), ds, invert=invert)

    def no_decoder(*args, **kwargs):
        raise AssertionError("decoded by pydicom")

    monkeypatch.setattr("imaging.render.iter_pixels", no_decoder)
    rendered = next(render_dataset(ds, invert=invert))
    assert rendered.web == expected.web
    assert rendered.thumbnail == expected.thumbnail
    assert rendered.window == expected.window


def test_every_bundled_grey_frame_renders_as_the_decoder_and_the_maths_render_it():
    compared = 0
    for path in accepted_files():
        ds = read_dataset(Source(path.name, path.read_bytes()), limits=Limits())
        try:
            expected = render_frame(next(iter_frames(ds)), ds)
            rendered = next(render_dataset(ds))
        except RenderError:
            continue
        if int(ds.get("NumberOfFrames") or 1) == 1:
            compared += 1
            assert rendered.web == expected.web, path.name
            assert rendered.window == expected.window, path.name
    assert compared > 40
