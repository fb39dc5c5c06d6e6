"""Refusal reasons name the attribute and the problem, never a value from the file (issue 13 §3)."""

import io
import logging
import secrets
import sys
import warnings

import numpy as np
import pydicom
import pytest
from pydicom import config
from pydicom.uid import ExplicitVRLittleEndian

from imaging import deidentify, render
from imaging.attributes import uid_name
from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.sources import FileSource, Source
from imaging.tests.corpus import reasons
from imaging.withheld import WithheldMessage, quiet_pydicom

LIMITS = Limits()
KEYS = deidentify.CaseKeys(uid_secret=secrets.token_bytes(32), date_offset_days=-400)

# What the author reads for the files that are refused while reading; the others read and are checked below.
REFUSED = {
    "rows.dcm": "invalid image header (Rows is not a positive whole number)",
    "columns.dcm": "invalid image header (Columns is not a positive whole number)",
    "bits-allocated.dcm": "invalid image header (Bits Allocated is not a positive whole number)",
    "samples-per-pixel.dcm": "invalid image header (Samples per Pixel is not a positive whole number)",
    "number-of-frames.dcm": "invalid image header (Number of Frames is not a positive whole number)",
    "number-of-frames-digits.dcm": "image too large (more than 2,000 frames)",
    "sop-class.dcm": "invalid DICOM header (SOP Class UID is not a UID)",
    "sop-instance.dcm": "invalid DICOM header (SOP Instance UID is not a UID)",
    "transfer-syntax.dcm": "invalid DICOM header (Transfer Syntax UID is not a UID)",
    "transfer-syntax-digits.dcm": "unsupported compression: a transfer syntax DICOM does not define",
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    return {path.name: path.read_bytes() for path in reasons.make_planted_headers(folder)}


def read_or_reason(data: bytes) -> pydicom.Dataset | str:
    try:
        return read_dataset(Source("upload", data), limits=LIMITS)
    except UnreadableFile as error:
        return str(error)


def quotes_nothing(text: str) -> bool:
    return not any(value in text for value in reasons.PLANTED)


@pytest.mark.parametrize("name", [name for name, *_ in reasons.PLANTS + reasons.META_PLANTS])
def test_a_planted_value_is_never_quoted_by_reading(name, planted):
    result = read_or_reason(planted[name])
    if name in REFUSED:
        assert result == REFUSED[name]
    else:
        assert isinstance(result, pydicom.Dataset), result
    assert quotes_nothing(str(result) if isinstance(result, str) else "")


@pytest.mark.parametrize("name", [name for name, *_ in reasons.PLANTS + reasons.META_PLANTS if name not in REFUSED])
def test_a_planted_value_that_passes_reading_is_never_stored_or_quoted(name, planted):
    """De-identification empties a kept value its VR forbids; what is left renders or is refused by name."""
    dataset = read_dataset(Source("upload", planted[name]), limits=LIMITS)
    cleaned = deidentify.deidentify(dataset, keys=KEYS).dataset
    stored = io.BytesIO()
    cleaned.save_as(stored, enforce_file_format=True)
    try:
        frames = list(render.render_dataset(pydicom.dcmread(io.BytesIO(stored.getvalue()))))
    except render.RenderError as error:
        assert quotes_nothing(str(error)), str(error)
        return  # not rendered: the import deletes its stored object
    assert frames
    assert not any(value.encode() in stored.getvalue() for value in reasons.PLANTED), "kept in the stored file"


def test_a_kept_value_its_vr_forbids_is_emptied_and_counted(planted):
    dataset = read_dataset(Source("upload", planted["pixel-spacing.dcm"]), limits=LIMITS)
    result = deidentify.deidentify(dataset, keys=KEYS)
    assert result.dataset.PixelSpacing in ("", None)
    assert result.actions["Z malformed value"] == 1


def test_valid_kept_values_are_kept_as_read():
    dataset = read_dataset(Source("ct", _bytes(reasons.synthetic_ct())), limits=LIMITS)
    result = deidentify.deidentify(dataset, keys=KEYS)
    assert "Z malformed value" not in result.actions
    assert [float(v) for v in result.dataset.PixelSpacing] == [0.5, 0.5]
    assert result.dataset.SpecificCharacterSet == "ISO_IR 100" and result.dataset.PatientAge == "050Y"


def test_an_unknown_colour_model_is_named_not_quoted(planted):
    """pydicom's decoder refuses it first ("could not be decoded"); a decoded frame meets this reason."""
    dataset = read_dataset(Source("upload", planted["photometric.dcm"]), limits=LIMITS)
    with pytest.raises(render.RenderError) as caught:
        render.to_display(np.zeros((16, 16), dtype=np.uint16), dataset, None)
    assert str(caught.value) == (
        "unsupported colour model (Photometric Interpretation is not MONOCHROME, RGB, YBR or PALETTE COLOR)"
    )


def test_an_unregistered_sop_class_without_pixels_is_not_quoted():
    ds = reasons.synthetic_ct()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = f"1.2.840.{reasons.DIGITS}"
    del ds.PixelData
    assert read_or_reason(_bytes(ds)) == "no pixel data"


def test_uid_name_gives_registered_names_only():
    assert uid_name(ExplicitVRLittleEndian) == "Explicit VR Little Endian"
    assert uid_name(f"1.2.840.{reasons.DIGITS}") == ""
    assert uid_name("") == ""


# --------------------------------------------------------------------------
# what is missing is named


def test_dicom_without_a_sop_instance_uid_says_so(tmp_path):
    with_meta, bare = reasons.make_without_instance_uid(tmp_path)
    assert read_or_reason(with_meta.read_bytes()) == "incomplete DICOM header (no SOP Instance UID)"
    assert read_or_reason(bare.read_bytes()) == "incomplete DICOM header (no SOP Instance UID)"


def test_dicom_without_a_sop_class_uid_says_so():
    ds = reasons.synthetic_ct()
    del ds.SOPClassUID
    assert read_or_reason(_bytes(ds)) == "incomplete DICOM header (no SOP Class UID)"


# --------------------------------------------------------------------------
# deflate


def test_a_deflated_file_is_read_and_rendered(tmp_path):
    """pydicom 3 inflates Deflated Explicit VR Little Endian while reading: nothing to refuse."""
    (path,) = reasons.make_deflated(tmp_path)
    dataset = read_dataset(FileSource("deflated.dcm", path), limits=LIMITS)
    assert uid_name(dataset.file_meta.TransferSyntaxUID) == "Deflated Explicit VR Little Endian"
    cleaned = deidentify.deidentify(dataset, keys=KEYS).dataset
    stored = io.BytesIO()
    cleaned.save_as(stored, enforce_file_format=True)
    (frame,) = render.render_dataset(pydicom.dcmread(io.BytesIO(stored.getvalue())))
    assert (frame.width, frame.height) == (16, 16)


# --------------------------------------------------------------------------
# pydicom's own words


def test_quiet_pydicom_stops_the_value_checks_and_restores_them(planted):
    dataset = pydicom.dcmread(io.BytesIO(planted["number-of-frames.dcm"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_pydicom():
            assert dataset.NumberOfFrames == reasons.MRN  # read as it stands, unchecked
            assert config.settings.reading_validation_mode == config.IGNORE
    assert not caught
    assert config.settings.reading_validation_mode == config.WARN


def record(name: str, message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, "pydicom/valuerep.py", 440, message, args, exc_info)


def test_the_filter_withholds_a_library_message_and_keeps_its_level():
    item = record("pydicom", "Invalid value for VR IS: %r", reasons.MRN)
    assert WithheldMessage().filter(item)
    assert item.levelno == logging.WARNING
    assert item.getMessage() == (
        "pydicom reported a problem (message withheld: it may quote values from an uploaded file)"
    )


def test_the_filter_keeps_an_exception_type_without_its_message():
    try:
        raise ValueError(reasons.MRN)
    except ValueError:
        item = record("pylibjpeg", "decoding failed", exc_info=sys.exc_info())
    WithheldMessage().filter(item)
    formatted = logging.Formatter().format(item)
    assert "ValueError" in formatted and quotes_nothing(formatted)


def test_the_filter_keeps_a_warning_category_and_place_without_its_text():
    text = warnings.formatwarning(f"Invalid value for VR IS: '{reasons.MRN}'", UserWarning, "/x/valuerep.py", 440)
    item = logging.LogRecord("py.warnings", logging.WARNING, "", 0, "%s", (text,), None)
    WithheldMessage().filter(item)
    assert item.getMessage() == (
        "A UserWarning at /x/valuerep.py:440 (message withheld: it may quote values from an uploaded file)"
    )


def _bytes(ds: pydicom.Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
