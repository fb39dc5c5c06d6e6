"""Test files in the formats real archives contain (issue 13 §5), made by the project: never a real patient.

Each ``make_*`` writes its files into ``folder`` and returns their paths; the
docstring says what is special about them and what the import must do.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

__all__ = ["DCMCJPEG", "make_jpeg_extended_12bit", "phantom_12bit", "scan_header"]

DCMCJPEG = "dcmcjpeg"  # dcmtk; `make test` installs it (Debian package dcmtk)
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def phantom_12bit(rows: int = 128, columns: int = 128) -> np.ndarray:
    """Return a CT-like 12-bit slice: air, a soft-tissue body with a fatty rim, a bone ring and a smooth organ."""
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    cy, cx = (rows - 1) / 2, (columns - 1) / 2
    radius = np.hypot((y - cy) / (rows * 0.45), (x - cx) / (columns * 0.4))
    image = np.full((rows, columns), 24.0)  # air, stored value (HU + 1024)
    image[radius < 1] = 1024 - 100  # fat
    image[radius < 0.9] = 1024 + 40 + 20 * np.cos(x[radius < 0.9] / 9)  # soft tissue with a gentle ripple
    organ = np.hypot(y - cy * 0.8, x - cx * 1.2) < rows * 0.12
    image[organ] = 1024 + 90
    ring = np.abs(np.hypot(y - cy, x - cx * 0.7) - rows * 0.1) < 2.5
    image[ring] = 1024 + 1200  # cortical bone
    return np.clip(np.rint(image), 0, 4095).astype(np.uint16)


def scan_header(data: bytes | bytearray) -> int:
    """Return where the Ss byte of the first scan header of the first JPEG frame in ``data`` is (T.81 B.2.3)."""
    position = data.index(b"\xff\xd8") + 2
    while data[position + 1] != 0xDA:  # marker segments up to the first Start of Scan: FF xx, then a 2-byte length
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return position + 5 + 2 * data[position + 4]  # marker, length, component count, 2 bytes a component


def _base(sop_class: str, *, modality: str, series: str | None = None) -> Dataset:
    """Return a minimal dataset of one generated patient and study, with File Meta Information."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = "Corpus^Formats"
    ds.PatientID = "FORMATS-0001"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = series or generate_uid()
    ds.StudyDate = ds.SeriesDate = "20240102"
    ds.SeriesTime = "101500"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    return ds


def _grey(ds: Dataset, pixels: np.ndarray, *, bits_stored: int) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()


def make_jpeg_extended_12bit(folder: Path) -> list[Path]:
    """Write a 12-bit CT slice uncompressed, as dcmtk's lossy JPEG Extended (process 4), and with a damaged scan header.

    Returns [original, jpeg, damaged]: three objects of one series (the
    compressed ones have their own SOP Instance UIDs, as ``dcmcjpeg`` gives a
    lossy copy).  ``damaged`` is ``jpeg`` with the Start of Scan header's
    spectral selection end (Se) overwritten with 0, the quirk real archives
    hold and pylibjpeg refuses (pylibjpeg issue 73).  All three must import;
    the compressed ones decode to the original within the lossy tolerance and
    to within one stored value of what dcmtk's ``dcmdjpeg`` decodes.
    """
    if shutil.which(DCMCJPEG) is None:
        raise RuntimeError("dcmtk's dcmcjpeg is missing: `make test` installs it (apt-get install dcmtk)")
    folder.mkdir(parents=True, exist_ok=True)
    ds = _base(CT_IMAGE_STORAGE, modality="CT")
    _grey(ds, phantom_12bit(), bits_stored=12)
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    original, compressed, damaged = folder / "ct12.dcm", folder / "ct12_jpeg.dcm", folder / "ct12_jpeg_bad_sos.dcm"
    ds.save_as(original, enforce_file_format=True)
    subprocess.run([DCMCJPEG, "+ee", str(original), str(compressed)], check=True, capture_output=True)

    bad = pydicom.dcmread(compressed)
    data = bytearray(bad.PixelData)
    data[scan_header(data) + 1] = 0  # Se
    bad.PixelData = bytes(data)
    bad.SOPInstanceUID = generate_uid()
    bad.file_meta.MediaStorageSOPInstanceUID = bad.SOPInstanceUID
    bad.save_as(damaged, enforce_file_format=True)
    return [original, compressed, damaged]
