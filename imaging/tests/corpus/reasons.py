"""Files with an identifier planted in an attribute the import parses, each making the file invalid or odd.

The import must refuse, import or fail to render each one, and whatever it does, the planted identifier must
appear in no log record, job report, database row, refusal reason or stored file: reasons name the attribute
and the problem, never the value.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydicom import config
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.tag import Tag
from pydicom.uid import CTImageStorage, DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, JPEGLSLossless

MRN = "MRN8675309"
NAME = "DOE^JANE"
DIGITS = "8675309"  # the MRN's number, where only a number fits
#: Every planted value contains one of these; a test looks for each in every output.
PLANTED = (MRN, DIGITS, NAME, "DOE", "JANE")

# (file name, keyword, VR as written, planted value). A VR other than the attribute's own is a header that
# lies about it (explicit VR lets a file do so): a number written as text.
PLANTS = [
    ("rows.dcm", "Rows", "LO", MRN),
    ("columns.dcm", "Columns", "LO", MRN),
    ("bits-allocated.dcm", "BitsAllocated", "LO", MRN),
    ("bits-stored.dcm", "BitsStored", "LO", MRN),
    ("high-bit.dcm", "HighBit", "LO", MRN),
    ("samples-per-pixel.dcm", "SamplesPerPixel", "LO", MRN),
    ("pixel-representation.dcm", "PixelRepresentation", "LO", MRN),
    ("number-of-frames.dcm", "NumberOfFrames", "IS", MRN),
    ("number-of-frames-digits.dcm", "NumberOfFrames", "IS", DIGITS),
    ("photometric.dcm", "PhotometricInterpretation", "CS", MRN),
    ("photometric-name.dcm", "PhotometricInterpretation", "CS", NAME),
    ("pixel-spacing.dcm", "PixelSpacing", "DS", [MRN, "0.5"]),
    ("window-center.dcm", "WindowCenter", "DS", MRN),
    ("window-width.dcm", "WindowWidth", "DS", MRN),
    ("rescale-slope.dcm", "RescaleSlope", "DS", MRN),
    ("rescale-intercept.dcm", "RescaleIntercept", "DS", MRN),
    ("slice-thickness.dcm", "SliceThickness", "DS", MRN),
    ("image-position.dcm", "ImagePositionPatient", "DS", ["0", MRN, "0"]),
    ("image-orientation.dcm", "ImageOrientationPatient", "DS", ["1", "0", "0", "0", "1", MRN]),
    ("series-number.dcm", "SeriesNumber", "IS", MRN),
    ("instance-number.dcm", "InstanceNumber", "IS", MRN),
    ("sop-class.dcm", "SOPClassUID", "UI", MRN),
    ("sop-instance.dcm", "SOPInstanceUID", "UI", MRN),
    ("sop-instance-digits.dcm", "SOPInstanceUID", "UI", f"1.2.{DIGITS}"),
    ("series-instance.dcm", "SeriesInstanceUID", "UI", MRN),
    ("study-instance.dcm", "StudyInstanceUID", "UI", MRN),
    ("study-date.dcm", "StudyDate", "DA", MRN),
    ("series-date.dcm", "SeriesDate", "DA", MRN),
    ("study-time.dcm", "StudyTime", "TM", MRN),
    ("modality-name.dcm", "Modality", "CS", NAME),
    ("body-part-name.dcm", "BodyPartExamined", "CS", NAME),
    ("patient-age.dcm", "PatientAge", "AS", MRN),
    ("patient-sex.dcm", "PatientSex", "CS", NAME),
    ("character-set.dcm", "SpecificCharacterSet", "CS", MRN),
]
# File Meta Information: (file name, keyword, planted value)
META_PLANTS = [
    ("transfer-syntax.dcm", "TransferSyntaxUID", MRN),
    ("transfer-syntax-digits.dcm", "TransferSyntaxUID", f"1.2.840.{DIGITS}"),
    ("media-storage-instance.dcm", "MediaStorageSOPInstanceUID", MRN),
]


@contextmanager
def _unchecked_writes() -> Iterator[None]:
    """Let pydicom write values their VR does not allow (it refuses them by default)."""
    saved = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        config.settings.writing_validation_mode = saved


def synthetic_ct(number: int = 1) -> Dataset:
    """Return a valid 16 × 16 CT slice with made-up identifiers (no real person)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.1386.{number}"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.1386.100"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.1386.200"
    ds.PatientName = "SYNTHETIC^PHANTOM"
    ds.PatientID = "SYNTH-001"
    ds.PatientAge = "050Y"
    ds.PatientSex = "O"
    ds.StudyDate = ds.SeriesDate = "20240105"
    ds.StudyTime = "101500"
    ds.Modality = "CT"
    ds.BodyPartExamined = "CHEST"
    ds.SeriesNumber = 2
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [0, 0, number]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.Rows = ds.Columns = 16
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.add_new(0x7FE00010, "OW", (np.arange(256, dtype=np.uint16).reshape(16, 16) * 8).tobytes())
    return ds


def _write(ds: Dataset, path: Path) -> Path:
    with _unchecked_writes():
        ds.save_as(path, enforce_file_format=True, implicit_vr=False, little_endian=True)
    return path


def make_planted_headers(folder: Path) -> list[Path]:
    """Write one CT slice per attribute the import parses, with an identifier planted in that attribute.

    Some are refused (Rows as text, an unknown transfer syntax, a SOP Class UID that is not a UID), some fail to
    render (an unknown Photometric Interpretation), the rest import with the planted value removed by
    de-identification (a number that is not a number, a date that is not a date). None may leak the value.
    """
    paths = []
    for number, (name, keyword, vr, value) in enumerate(PLANTS, start=1):
        ds = synthetic_ct(number)
        tag = tag_for_keyword(keyword)
        text = "\\".join(value) if isinstance(value, list) else value
        raw = text.encode("ascii") + (b"\x00" if vr == "UI" else b" ") * (len(text) % 2)
        # As the bytes of a file: pydicom will not make a value its VR forbids.
        ds[tag] = RawDataElement(Tag(tag), vr, len(raw), raw, 0, False, True)
        paths.append(_write(ds, folder / name))
    for number, (name, keyword, value) in enumerate(META_PLANTS, start=len(PLANTS) + 1):
        ds = synthetic_ct(number)
        with _unchecked_writes():
            setattr(ds.file_meta, keyword, value)
            ds.preamble = bytes(128)
            # enforce_file_format=False: the File Meta is written as it stands, not made to agree with the data set
            ds.save_as(folder / name, enforce_file_format=False, implicit_vr=False, little_endian=True)
        paths.append(folder / name)
    return paths


def make_deflated(folder: Path) -> list[Path]:
    """Write a CT slice in Deflated Explicit VR Little Endian: pydicom inflates it on reading, so it imports."""
    ds = synthetic_ct(900)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = folder / "deflated.dcm"
    with _unchecked_writes():
        ds.save_as(path, enforce_file_format=True)
    return [path]


def make_without_instance_uid(folder: Path) -> list[Path]:
    """Write two JPEG-LS CT slices without a SOP Instance UID: one a Part 10 file, one a bare data set.

    Both are DICOM, so the reason must say what is missing ("no SOP Instance UID"), not "not a DICOM file".
    Their JPEG-LS stream is a placeholder: the missing UID is found first.
    """
    with_meta = synthetic_ct(901)
    del with_meta.SOPInstanceUID
    with_meta.file_meta.TransferSyntaxUID = JPEGLSLossless
    with_meta.PixelData = encapsulate([b"\xff\xd8\xff\xf7" + bytes(60) + b"\xff\xd9"])
    with_meta["PixelData"].VR = "OB"
    path = _write(with_meta, folder / "no-instance-uid.dcm")
    bare = synthetic_ct(902)
    del bare.SOPInstanceUID
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, True
    write_dataset(buffer, bare)  # no preamble, no File Meta: as some old archives store files
    bare_path = folder / "no-instance-uid-bare.dcm"
    bare_path.write_bytes(buffer.getvalue())
    return [path, bare_path]
