"""Tests for imaging.read: candidate files → checked datasets (image checks included)."""

import gzip
import io
import json
from pathlib import Path

import numpy as np
import PIL.Image
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filereader import _read_file_meta_info, read_partial
from pydicom.uid import MPEG4HP41, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, generate_uid

from imaging.headers import PROBE_BYTES, _data_set_start, _plain_meta, head_reason
from imaging.image_checks import PIXEL_KEYWORDS
from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.sources import Rejected, Source
from imaging.uploads import sources_from_bytes

LIMITS = Limits()
TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"
BUNDLED = sorted(path for path in TEST_FILES.rglob("*") if path.is_file())

# Bundled files that carry pixel data and are still refused, with the reason the author sees.
SEGMENTATION = (
    "segmentation object (a mask drawn on other images, not an image of its own): not imported; "
    "import the images it was drawn on"
)
REFUSED_WITH_PIXELS = {
    "MR_truncated.dcm": "truncated pixel data",
    "liver_1frame.dcm": SEGMENTATION,
    "liver_expb_1frame.dcm": SEGMENTATION,
    "badVR.dcm": "invalid image header (Number of Frames is not a positive whole number)",
    "meta_missing_tsyntax.dcm": "incomplete DICOM header (no SOP Class UID)",
    "nested_priv_SQ.dcm": "incomplete DICOM header (no SOP Class UID)",
    "no_meta.dcm": "not a DICOM file",  # a CT dataset shifted by one stray leading byte
    # Its codestream's header is cut by a stray delimiter: it declares 1024 × 3,722,445,056 pixels.
    "JPEG2000-embedded-sequence-delimiter.dcm": "damaged pixel data (a frame declares another size than Rows, "
    "Columns, Samples per Pixel)",
}
# The reasons a file without pixel data may get.
NO_IMAGE_REASONS = ("no pixel data", "not a DICOM file")
# The (7FE0,0010) Pixel Data tag as it appears in little- and big-endian files.
PIXEL_DATA_TAG_BYTES = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")


def bundled(name: str) -> bytes:
    return Path(get_testdata_file(name, download=False)).read_bytes()


def dataset_bytes(ds: Dataset, *, preamble: bool = True) -> bytes:
    buffer = io.BytesIO()
    if preamble:
        ds.save_as(buffer, enforce_file_format=True)
    else:
        ds.preamble = None
        ds.save_as(buffer, implicit_vr=True, little_endian=True)
    return buffer.getvalue()


def reason(data: bytes, *, limits: Limits = LIMITS) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read_dataset(Source("upload", data), limits=limits)
    return str(caught.value)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    PIL.Image.new("L", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------
# every file pydicom bundles


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.relative_to(TEST_FILES).as_posix())
def test_every_bundled_file_reads_or_is_refused_with_its_reason(path):
    """Files with pixel data read, unless listed with the reason; the rest say they hold no image."""
    name = path.relative_to(TEST_FILES).as_posix()
    data = path.read_bytes()
    try:
        ds = read_dataset(Source(name, data), limits=LIMITS)
    except UnreadableFile as error:
        if name in REFUSED_WITH_PIXELS:
            assert str(error) == REFUSED_WITH_PIXELS[name]
        else:
            assert str(error).startswith(NO_IMAGE_REASONS), str(error)
            assert not any(tag in data for tag in PIXEL_DATA_TAG_BYTES), "refused a file that has pixel data"
    else:
        assert name not in REFUSED_WITH_PIXELS
        assert any(keyword in ds for keyword in PIXEL_KEYWORDS)
        assert int(ds.Rows) > 0 and int(ds.Columns) > 0
        assert ds.file_meta.TransferSyntaxUID


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm"])
def test_12_bit_jpeg_extended_is_accepted_with_or_without_the_scan_header_quirk(name):
    """JPEG-lossy.dcm's scan header (pylibjpeg issue 73) is repaired as it is read (test_formats decodes both)."""
    ds = read_dataset(Source(name, bundled(name)), limits=LIMITS)
    assert ds.BitsStored == 12


# --------------------------------------------------------------------------
# not DICOM


@pytest.mark.parametrize(
    "data",
    [
        b"Patient notes: left hip pain\n" * 20,
        json.dumps({"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]}}).encode(),
        gzip.compress(b"\x00" * 128 + b"DICM" + b"\x00" * 400),
        png_bytes(),
        b"DICM",
        b"\x00" * 200,
    ],
    ids=["text", "json", "gzip", "png", "prefix-only", "zeros"],
)
def test_non_dicom_bytes_are_not_a_dicom_file(data):
    assert reason(data) == "not a DICOM file"


def test_bundled_json_and_gzip_are_not_dicom():
    assert reason(bundled("test1.json")) == "not a DICOM file"
    assert reason(bundled("zipMR.gz")) == "not a DICOM file"


def test_empty_file_is_refused():
    assert reason(b"") == "empty file"
    assert list(sources_from_bytes("blank.dcm", b"", limits=LIMITS)) == [Rejected("blank.dcm", "empty file")]


def test_file_larger_than_the_limit_is_refused():
    data = bundled("CT_small.dcm")
    assert reason(data, limits=Limits(max_file_bytes=1000)) == "file too large"
    assert list(sources_from_bytes("ct.dcm", data, limits=Limits(max_file_bytes=1000))) == [
        Rejected("ct.dcm", "file too large")
    ]


# --------------------------------------------------------------------------
# no preamble


def test_dataset_without_preamble_or_meta_is_accepted():
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    bare = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    bare.file_meta = FileMetaDataset()
    data = dataset_bytes(bare, preamble=False)
    assert data[128:132] != b"DICM" and data[:2] == b"\x08\x00"

    ds = read_dataset(Source("ct-no-preamble", data), limits=LIMITS)

    assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert ds.SOPInstanceUID == original.SOPInstanceUID
    assert ds.PixelData == original.PixelData


def test_meta_without_preamble_is_accepted():
    data = bundled("CT_small.dcm")[132:]  # starts at the (0002,0000) group length
    ds = read_dataset(Source("ct-meta-only", data), limits=LIMITS)
    assert ds.Modality == "CT"


def test_bundled_dataset_without_meta_is_read_as_dicom():
    """It parses and names its SOP class, so the reason is about pixels, not format."""
    assert reason(bundled("ExplVR_LitEndNoMeta.dcm")) == "no pixel data (RT Ion Plan Storage)"
    assert reason(bundled("ExplVR_BigEndNoMeta.dcm")) == "no pixel data (RT Ion Plan Storage)"


# --------------------------------------------------------------------------
# pixel data checks


@pytest.mark.parametrize("name", ["test-SR.dcm", "reportsi.dcm"])
def test_structured_report_has_no_pixel_data(name):
    assert reason(bundled(name)) == "no pixel data (structured report)"


def test_other_objects_without_pixels_are_named():
    assert reason(bundled("rtplan.dcm")) == "no pixel data (RT Plan Storage)"
    assert reason(bundled("waveform_ecg.dcm")) == "no pixel data (12-lead ECG Waveform Storage)"


def test_native_pixel_data_cut_short_is_truncated():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.PixelData = ds.PixelData[:-1000]
    assert reason(dataset_bytes(ds)) == "truncated pixel data"


def test_file_cut_inside_encapsulated_pixel_data_is_truncated():
    data = bundled("examples_ybr_color.dcm")
    assert reason(data[:-5000]) == "truncated pixel data"


def test_encapsulated_frame_missing_is_truncated():
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_rle_2frame.dcm", download=False))
    frames = list(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=2))
    ds.PixelData = encapsulate(frames[:1])  # NumberOfFrames still says 2
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    assert reason(dataset_bytes(ds)) == "truncated pixel data"


def test_frame_larger_than_the_limit_is_refused_before_decoding():
    data = bundled("CT_small.dcm")  # 128 × 128
    assert reason(data, limits=Limits(max_pixels_per_frame=128 * 127)).startswith("image too large")
    assert read_dataset(Source("ct", data), limits=Limits(max_pixels_per_frame=128 * 128))


def test_too_many_frames_is_refused():
    data = bundled("examples_ybr_color.dcm")  # 30 frames
    assert reason(data, limits=Limits(max_frames=29)).startswith("image too large")


def test_huge_header_is_refused_without_touching_the_pixels():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.Rows = ds.Columns = 60_000  # the pixel data is far too short, but the size check comes first
    assert reason(dataset_bytes(ds)).startswith("image too large")


def test_transfer_syntax_without_a_decoder_is_unsupported_compression():
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_rle.dcm", download=False))
    ds.file_meta.TransferSyntaxUID = MPEG4HP41
    assert reason(dataset_bytes(ds)) == f"unsupported compression: {MPEG4HP41.name}"


def test_unknown_transfer_syntax_is_unsupported():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.file_meta.TransferSyntaxUID = "1.2.826.0.1.3680043.2.1143.99"  # a private syntax pydicom cannot know
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True, implicit_vr=False, little_endian=True)
    # The UID is not quoted: a private UID can embed a site's or a patient's number.
    assert reason(buffer.getvalue()) == "unsupported compression: a transfer syntax DICOM does not define"


def test_read_dataset_does_not_decode(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("read_dataset decoded pixels")

    monkeypatch.setattr(pydicom.pixels, "iter_pixels", fail)
    monkeypatch.setattr(pydicom.pixels, "pixel_array", fail)
    monkeypatch.setattr(Dataset, "pixel_array", property(fail))
    ds = read_dataset(Source("us", bundled("examples_ybr_color.dcm")), limits=LIMITS)
    assert ds.NumberOfFrames == 30


def test_dataset_built_in_code_round_trips():
    """A minimal image written by pydicom reads back: the checks accept what the standard allows."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 3, 5, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.arange(15, dtype=np.uint8).tobytes() + b"\x00"  # padded to even length
    assert read_dataset(Source("ot.dcm", dataset_bytes(ds)), limits=LIMITS).Columns == 5


def meta_as_pydicom_reads_it(head: bytes) -> tuple[str, int]:
    stream = io.BytesIO(head[132:])
    meta = _read_file_meta_info(stream)
    return str(meta.get("TransferSyntaxUID", "")), 132 + stream.tell()


def test_a_plain_file_meta_is_read_as_pydicom_reads_it():
    """Every bundled Part 10 file: the same transfer syntax and the same start of the data set."""
    heads = [path.read_bytes()[:PROBE_BYTES] for path in BUNDLED]
    part10 = [head for head in heads if head[128:132] == b"DICM"]
    plain = [head for head in part10 if _plain_meta(head) is not None]
    assert len(plain) > 150
    for head in plain:
        assert _plain_meta(head) == meta_as_pydicom_reads_it(head)


def test_a_file_meta_out_of_the_ordinary_is_left_to_pydicom():
    good = bundled("CT_small.dcm")[:PROBE_BYTES]
    syntax, end = _plain_meta(good)
    group_length = 132 + 12  # (0002,0000) UL, the first element
    unknown_element = good[:group_length] + b"\x02\x00\x99\x00UI\x02\x001\x00" + good[group_length:]
    implicit = good[:132] + b"\x02\x00\x00\x00\x04\x00\x00\x00" + good[140:]  # a length where the VR belongs
    spaced = good.replace(syntax.encode() + b"\x00", syntax.encode() + b" ") if len(syntax) % 2 else None
    for head in (unknown_element, implicit, good[: end - 4], spaced):
        if head is not None:
            assert _plain_meta(head) is None
    assert head_reason(implicit) == head_reason(good) is None  # pydicom's reading decides, as before


def test_the_census_starts_where_pydicom_starts_reading():
    """For every bundled file with a plain File Meta: the same start of the data set and the same encoding."""
    compared = 0
    for path in BUNDLED:
        data = path.read_bytes()
        start = _data_set_start(data)
        if start is None:
            continue
        head = read_partial(io.BytesIO(data), stop_when=lambda tag, vr, length: True)
        assert start[1:] == (head.buffer.tell(), *head.original_encoding), path.name
        compared += 1
    assert compared > 150
