"""Files real archives contain (issue 13 §5): 12-bit lossy JPEG, Siemens mosaics, segmentations, parametric maps."""

import io
import struct
import subprocess
from pathlib import Path

import numpy as np
import PIL.Image
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian, RLELossless

from imaging.deidentify import CaseKeys, deidentify
from imaging.group import group_series, slice_position
from imaging.jpeg import repair_pixel_data, repair_scan_headers
from imaging.limits import Limits, UnreadableFile
from imaging.mosaic import mosaic_layout, read_csa_header, split_mosaic
from imaging.read import read_dataset
from imaging.render import iter_frames, modality_lut, render_dataset, to_display
from imaging.sources import FileSource, Source
from imaging.tests.corpus import formats
from imaging.windows import Window, auto_window

LIMITS = Limits()
# IJG quality 90 (dcmcjpeg's default) on the phantom, in HU: the error is largest at the 1,200 HU bone edges.
LOSSY_MEAN_HU = 2.0
LOSSY_MAX_HU = 40.0


@pytest.fixture(scope="module")
def jpeg_files(tmp_path_factory) -> list[Path]:
    return formats.make_jpeg_extended_12bit(tmp_path_factory.mktemp("jpeg12"))


def dcmdjpeg(path: Path, tmp_path: Path) -> pydicom.Dataset:
    """Return the file as dcmtk's ``dcmdjpeg`` (IJG) decompresses it: the independent oracle."""
    out = tmp_path / f"{path.stem}_dcmdjpeg.dcm"
    subprocess.run(["dcmdjpeg", str(path), str(out)], check=True, capture_output=True)
    return pydicom.dcmread(out)


def decoded(path: Path) -> tuple[pydicom.Dataset, np.ndarray]:
    ds = read_dataset(FileSource(path.name, path), limits=LIMITS)
    return ds, next(iter_frames(ds))


# --------------------------------------------------------------------------
# 12-bit JPEG Extended


def test_dcmtk_writes_the_damaged_scan_header_the_corpus_promises(jpeg_files):
    _, compressed, damaged = jpeg_files
    assert pydicom.dcmread(compressed).file_meta.TransferSyntaxUID == pydicom.uid.JPEGExtended12Bit
    good, bad = bytes(pydicom.dcmread(compressed).PixelData), bytes(pydicom.dcmread(damaged).PixelData)
    assert good[formats.scan_header(good) : formats.scan_header(good) + 3] == bytes((0, 63, 0))
    assert bad[formats.scan_header(bad) : formats.scan_header(bad) + 3] == bytes((0, 0, 0))


@pytest.mark.parametrize("which", [1, 2], ids=["well-formed", "damaged-scan-header"])
def test_12_bit_jpeg_extended_decodes_as_dcmtk_does(jpeg_files, tmp_path, which):
    """Within one stored value of dcmdjpeg (the inverse DCTs round differently), both with and without the quirk."""
    path = jpeg_files[which]
    ds, frame = decoded(path)
    reference = dcmdjpeg(path, tmp_path).pixel_array
    assert frame.shape == reference.shape == (128, 128)
    assert np.abs(frame.astype(int) - reference.astype(int)).max() <= 1


@pytest.mark.parametrize("which", [1, 2], ids=["well-formed", "damaged-scan-header"])
def test_12_bit_jpeg_extended_is_the_original_within_the_lossy_tolerance(jpeg_files, which):
    original = pydicom.dcmread(jpeg_files[0])
    expected = modality_lut(original.pixel_array, original)
    ds, frame = decoded(jpeg_files[which])
    error = np.abs(modality_lut(frame, ds) - expected)
    assert error.mean() <= LOSSY_MEAN_HU
    assert error.max() <= LOSSY_MAX_HU


def test_the_repair_changes_only_the_scan_header(jpeg_files):
    compressed, damaged = (pydicom.dcmread(path) for path in jpeg_files[1:])
    ds = read_dataset(FileSource("damaged", jpeg_files[2]), limits=LIMITS)
    assert bytes(ds.PixelData) == bytes(compressed.PixelData)
    assert len(ds.PixelData) == len(damaged.PixelData)


def test_the_bundled_file_with_the_quirk_decodes_as_dcmtk_does(tmp_path):
    """pydicom's JPEG-lossy.dcm, whose Se is 0: refused before, decoded now."""
    path = Path(get_testdata_file("JPEG-lossy.dcm", download=False))
    ds = read_dataset(Source(path.name, path.read_bytes()), limits=LIMITS)
    reference = dcmdjpeg(path, tmp_path).pixel_array
    assert np.abs(next(iter_frames(ds)).astype(int) - reference.astype(int)).max() <= 1


def test_a_colour_baseline_jpeg_with_the_quirk_decodes_as_the_intact_file():
    """Three components in one scan header: the fields sit after three component specifications."""
    intact = pydicom.dcmread(get_testdata_file("SC_rgb_dcmtk_+eb+cr.dcm", download=False))
    data = bytearray(intact.PixelData)
    data[formats.scan_header(data) + 1] = 0  # Se
    damaged = pydicom.dcmread(get_testdata_file("SC_rgb_dcmtk_+eb+cr.dcm", download=False))
    damaged.PixelData = bytes(data)
    buffer = io.BytesIO()
    damaged.save_as(buffer, enforce_file_format=True)
    ds = read_dataset(Source("damaged", buffer.getvalue()), limits=LIMITS)
    assert bytes(ds.PixelData) == bytes(intact.PixelData)


def test_every_frame_of_a_multi_frame_object_is_repaired(jpeg_files):
    damaged = pydicom.dcmread(jpeg_files[2])
    frame = next(generate_frames(damaged.PixelData, number_of_frames=1))
    pixel_data = encapsulate([frame, frame, frame], has_bot=True)
    repaired = repair_pixel_data(pixel_data)
    assert repaired is not None and len(repaired) == len(pixel_data)
    frames = list(generate_frames(repaired, number_of_frames=3))
    for each in frames:
        assert each[formats.scan_header(each) : formats.scan_header(each) + 3] == bytes((0, 63, 0))
    assert repair_pixel_data(repaired) is None  # nothing left to repair: no copy


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def codestream(sof: int, scans: list[tuple[bytes, bytes]]) -> bytes:
    """Return a JPEG marker skeleton: SOI, a frame header of three components, then (scan fields, entropy data)."""
    frame = segment(sof, bytes((12, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0)))
    body = b"".join(segment(0xDA, bytes((1, 1, 0)) + fields) + data for fields, data in scans)
    return b"\xff\xd8" + segment(0xDB, bytes(65)) + frame + body + b"\xff\xd9"


def test_every_scan_of_a_frame_is_repaired_past_stuffed_bytes_and_restart_markers():
    entropy = b"\x12\xff\x00\x34\xff\xd0\x56\xff\xff"  # a stuffed 0xFF, an RST0 marker, a fill byte
    stream = codestream(0xC1, [(bytes((0, 0, 0)), entropy), (bytes((1, 5, 0x10)), entropy)])
    required = bytes((0, 63, 0))
    assert repair_scan_headers(stream) == codestream(0xC1, [(required, entropy), (required, entropy)])


@pytest.mark.parametrize("sof", [0xC2, 0xC3], ids=["progressive", "lossless"])
def test_frames_that_are_not_sequential_dct_are_left_alone(sof):
    stream = codestream(sof, [(bytes((1, 5, 0x10)), b"\x12\x34")])
    assert repair_scan_headers(stream) == stream


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"not a jpeg", b"\xff\xd8\xff\xda\x00"], ids=repr)
def test_what_is_not_a_whole_codestream_is_left_alone(data):
    assert repair_scan_headers(data) == data


# --------------------------------------------------------------------------
# Siemens mosaics


@pytest.fixture
def mosaics(tmp_path) -> list[Path]:
    return formats.make_siemens_mosaic(tmp_path / "mosaic")


def frame_positions(ds: pydicom.Dataset) -> list[list[float]]:
    return [
        [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
        for item in ds.PerFrameFunctionalGroupsSequence
    ]


def test_a_mosaic_is_split_into_its_slices_at_their_own_positions(mosaics):
    ds = pydicom.dcmread(mosaics[0])
    assert split_mosaic(ds)
    assert (int(ds.NumberOfFrames), ds.Rows, ds.Columns) == (formats.MOSAIC_SLICES, 32, 32)
    frames = list(iter_frames(ds))
    for index, frame in enumerate(frames):
        np.testing.assert_array_equal(frame, formats.mosaic_slice(index))
    truth = formats.mosaic_truth((0.0, 0.0, 1.0))
    np.testing.assert_allclose(frame_positions(ds), truth, atol=1e-4)
    assert [float(v) for v in ds.ImagePositionPatient] == pytest.approx(list(truth[0]))
    assert "MOSAIC" not in ds.ImageType


def test_a_descending_mosaic_comes_out_ascending_like_every_stack(mosaics):
    """The CSA slice normal points to the feet; the count is only in (0019,xx0A)."""
    ds = pydicom.dcmread(mosaics[1])
    assert split_mosaic(ds)
    for position, frame in enumerate(iter_frames(ds)):
        np.testing.assert_array_equal(frame, formats.mosaic_slice(formats.MOSAIC_SLICES - 1 - position))
    truth = formats.mosaic_truth((0.0, 0.0, -1.0))[::-1]
    np.testing.assert_allclose(frame_positions(ds), truth, atol=1e-4)
    assert [slice_position(ds, frame_index=index) for index in range(6)] == sorted(
        slice_position(ds, frame_index=index) for index in range(6)
    )


def test_a_split_mosaic_keeps_its_slices_through_de_identification(mosaics):
    ds = pydicom.dcmread(mosaics[0])
    split_mosaic(ds)
    cleaned = deidentify(ds, keys=CaseKeys.generate()).dataset
    assert not any(element.tag.is_private for element in cleaned)
    buffer = io.BytesIO()
    cleaned.save_as(buffer, enforce_file_format=True)
    stored = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    assert int(stored.NumberOfFrames) == formats.MOSAIC_SLICES
    np.testing.assert_allclose(frame_positions(stored), formats.mosaic_truth((0.0, 0.0, 1.0)), atol=1e-4)


@pytest.mark.parametrize("syntax", [ImplicitVRLittleEndian, ExplicitVRBigEndian, RLELossless], ids=lambda uid: uid.name)
def test_a_mosaic_is_split_whatever_its_transfer_syntax(mosaics, syntax):
    ds = pydicom.dcmread(mosaics[0])
    buffer = io.BytesIO()
    if syntax.is_compressed:
        ds.compress(syntax, generate_instance_uid=False)
    elif not syntax.is_little_endian:
        ds.PixelData = ds.pixel_array.astype(">u2").tobytes()
    ds.file_meta.TransferSyntaxUID = syntax
    little, implicit = syntax.is_little_endian, syntax.is_implicit_VR
    pydicom.dcmwrite(buffer, ds, little_endian=little, implicit_vr=implicit, force_encoding=True)
    read = read_dataset(Source("mosaic", buffer.getvalue()), limits=LIMITS)
    assert split_mosaic(read)
    stored = io.BytesIO()
    deidentify(read, keys=CaseKeys.generate()).dataset.save_as(stored, enforce_file_format=True)
    again = pydicom.dcmread(io.BytesIO(stored.getvalue()))
    for index, frame in enumerate(iter_frames(again)):
        np.testing.assert_array_equal(frame, formats.mosaic_slice(index))


def test_a_mosaic_whose_header_says_nothing_stays_whole_and_is_labelled_a_mosaic(mosaics):
    ds = pydicom.dcmread(mosaics[2])
    assert mosaic_layout(ds) is None
    assert not split_mosaic(ds)
    assert (ds.Rows, ds.Columns, ds.get("NumberOfFrames")) == (96, 96, None)
    (series,) = group_series([ds])
    assert series.sequence == "EPI mosaic"


def test_split_mosaics_are_labelled_by_their_sequence_not_as_proton_density(mosaics):
    datasets = [pydicom.dcmread(path) for path in mosaics[:2]]
    for ds in datasets:
        split_mosaic(ds)
    assert [series.sequence for series in group_series(datasets)] == ["EPI", "DWI"]


def test_an_image_that_is_not_a_mosaic_is_left_alone():
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm", download=False))
    before = bytes(ds.PixelData)
    assert not split_mosaic(ds)
    assert bytes(ds.PixelData) == before


@pytest.mark.parametrize(
    "data",
    [b"", b"SV10\x04\x03\x02\x01", b"SV10\x04\x03\x02\x01" + struct.pack("<2I", 5000, 77)],
    ids=["empty", "no-count", "implausible-count"],
)
def test_a_malformed_csa_header_is_refused_by_the_parser(data):
    with pytest.raises(ValueError):
        read_csa_header(data)


def test_a_csa_header_cut_short_is_refused_by_the_parser():
    header = formats.csa2_header(
        {"NumberOfImagesInMosaic": ("US", ["6"]), "SliceNormalVector": ("FD", ["0", "0", "1"])}
    )
    assert read_csa_header(header)["NumberOfImagesInMosaic"] == ["6"]
    with pytest.raises(ValueError):
        read_csa_header(header[:-6])


def test_a_mosaic_with_a_damaged_csa_header_stays_whole(mosaics):
    ds = pydicom.dcmread(mosaics[0])
    ds.private_block(0x0029, "SIEMENS CSA HEADER")[0x10].value = b"SV10\x04\x03\x02\x01" + b"\xff" * 40
    assert not split_mosaic(ds)
    assert ds.Rows == 96


# --------------------------------------------------------------------------
# segmentations and parametric maps

SEGMENTATION_REASON = (
    "segmentation object (a mask drawn on other images, not an image of its own): not imported; "
    "import the images it was drawn on"
)


def test_segmentations_are_refused_with_a_reason_whatever_their_transfer_syntax(tmp_path):
    paths = formats.make_segmentations(tmp_path)
    syntaxes = {str(pydicom.dcmread(path).file_meta.TransferSyntaxUID) for path in paths}
    assert syntaxes == {"1.2.840.10008.1.2.1.99", formats.DEFLATED_IMAGE_FRAME_COMPRESSION, "1.2.840.10008.1.2.5"}
    for path in paths:
        with pytest.raises(UnreadableFile) as refused:
            read_dataset(FileSource(path.name, path), limits=LIMITS)
        assert str(refused.value) == SEGMENTATION_REASON


@pytest.mark.parametrize("kind", ["float", "double", "integer"])
def test_a_parametric_map_shows_its_real_values_windowed_from_their_range(tmp_path, kind):
    path = next(path for path in formats.make_parametric_maps(tmp_path) if kind in path.name)
    ds = read_dataset(FileSource(path.name, path), limits=LIMITS)
    expected = formats.adc_map()
    frames = list(iter_frames(ds))
    assert len(frames) == 2
    for index, frame in enumerate(frames):
        # the integer map keeps whole µm²/s: half of one is its rounding
        np.testing.assert_allclose(modality_lut(frame, ds, frame_index=index), expected[index], rtol=0, atol=0.5e-6)
    rendered = list(render_dataset(ds))
    low, high = formats.ADC_RANGE
    window = rendered[0].window
    assert low - 1e-9 <= window.center - window.width / 2 < window.center + window.width / 2 <= high + 1e-9
    picture = np.asarray(PIL.Image.open(io.BytesIO(rendered[0].web)).convert("L"))
    assert picture.min() == 0 and picture.max() == 255, "the map's range spans the grey scale"
    assert picture[11, 11] == 0, "the restricted spot is dark on ADC"


def test_parametric_maps_are_labelled_as_such_at_their_frames_positions(tmp_path):
    datasets = [pydicom.dcmread(path) for path in formats.make_parametric_maps(tmp_path)]
    assert {series.sequence for series in group_series(datasets)} == {"parametric map"}
    assert [slice_position(datasets[0], frame_index=index) for index in range(2)] == [0.0, 5.0]


def test_a_narrow_window_on_fractional_values_is_applied_exactly_not_as_a_threshold():
    values = np.array([[0.0010, 0.0015, 0.0020]], np.float32)
    grey = make_grey(np.zeros((1, 3), np.uint16))
    np.testing.assert_array_equal(to_display(values, grey, Window(0.0015, 0.001)), [[0, 128, 255]])


def test_the_automatic_window_of_whole_numbers_is_at_least_one_wide():
    assert auto_window(np.array([[5, 5, 5, 5]], np.float32)).width == 1
    assert auto_window(np.array([[0.0010, 0.0020]], np.float32)).width < 0.01


def make_grey(pixels: np.ndarray) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.Modality = "MR"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    return ds
