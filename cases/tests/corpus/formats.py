"""Test files in the formats real archives contain (issue 13 §5), made by the project: never a real patient.

Each ``make_*`` writes its files into ``folder`` and returns their paths; the
docstring says what is special about them and what the import must do.
"""

from __future__ import annotations

import shutil
import struct
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


MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
MOSAIC_SLICES = 6  # in a 3 × 3 grid of 32 × 32 tiles: the last three tiles are empty, as on the scanner
MOSAIC_TILE = 32
MOSAIC_SPACING = 4.5  # mm between slice centres
MOSAIC_PIXEL = 3.0  # mm
MOSAIC_FIRST_CORNER = (-48.0, -60.0, -10.0)  # where the first slice's top left pixel is, mm


def csa2_header(elements: dict[str, tuple[str, list[str]]]) -> bytes:
    """Return a Siemens CSA header, version 2 ("SV10"), holding ``{name: (VR, values)}``.

    Each element: a 64-byte name, VM, a 4-byte VR, SyngoDT, item count and a
    check value (77); each item four int32 (the second its length) and the
    NUL-terminated text padded to 4 bytes (the layout nibabel's csareader reads).
    """
    out = bytearray(b"SV10\x04\x03\x02\x01")
    out += struct.pack("<2I", len(elements), 77)
    for name, (vr, values) in elements.items():
        out += struct.pack("<64si4s3i", name.encode(), len(values), vr.encode(), 0, len(values), 77)
        for value in values:
            text = value.encode() + b"\0"
            out += struct.pack("<4i", len(text), len(text), 77, len(text)) + text + b"\0" * (-len(text) % 4)
    return bytes(out)


def mosaic_truth(normal: tuple[float, float, float]) -> list[np.ndarray]:
    """Return the true Image Position (Patient) of each slice of the generated mosaics, in mosaic order."""
    first = np.array(MOSAIC_FIRST_CORNER)
    return [first + np.array(normal) * MOSAIC_SPACING * index for index in range(MOSAIC_SLICES)]


def mosaic_slice(index: int) -> np.ndarray:
    """Return the pixels of slice ``index``: its own level (100 a slice) plus a ramp, so a swapped tile shows."""
    ramp = np.add.outer(np.arange(MOSAIC_TILE), np.arange(MOSAIC_TILE) * 2)
    return (100 * (index + 1) + ramp).astype(np.uint16)


def _mosaic(*, series: str, study: str, normal, count_in: str, sequence_name: str, number: int) -> Dataset:
    """Return an axial EPI volume as a Siemens mosaic: slices tiled row by row, MOSAIC in Image Type."""
    per_row = int(np.ceil(np.sqrt(MOSAIC_SLICES)))
    tiles = np.zeros((per_row * MOSAIC_TILE, per_row * MOSAIC_TILE), dtype=np.uint16)
    for index in range(MOSAIC_SLICES):
        row, column = divmod(index, per_row)
        tiles[row * MOSAIC_TILE : (row + 1) * MOSAIC_TILE, column * MOSAIC_TILE : (column + 1) * MOSAIC_TILE] = (
            mosaic_slice(index)
        )
    ds = _base(MR_IMAGE_STORAGE, modality="MR", series=series)
    ds.StudyInstanceUID = study
    ds.SeriesNumber = number
    _grey(ds, tiles, bits_stored=12)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]
    ds.ScanningSequence, ds.SequenceVariant = "EP", ["SK", "SS"]
    ds.SequenceName = sequence_name
    ds.RepetitionTime, ds.EchoTime = 2000, 30
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [MOSAIC_PIXEL, MOSAIC_PIXEL]
    ds.SliceThickness = 4
    ds.SpacingBetweenSlices = MOSAIC_SPACING
    # Siemens: the position of the whole mosaic's corner, as if it were one slice centred on the first slice
    shift = (tiles.shape[0] - MOSAIC_TILE) / 2 * MOSAIC_PIXEL
    ds.ImagePositionPatient = list(np.array(MOSAIC_FIRST_CORNER) - np.array([shift, shift, 0.0]))
    if count_in:
        header = {
            "SliceNormalVector": ("FD", [f"{value:.8f}" for value in normal]),
            "AcquisitionMatrixText": ("SH", ["32p*32"]),
        }
        if count_in == "csa":
            header["NumberOfImagesInMosaic"] = ("US", [str(MOSAIC_SLICES)])
        else:
            ds.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0A, "US", MOSAIC_SLICES)
        ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(0x10, "OB", csa2_header(header))
    return ds


def make_siemens_mosaic(folder: Path) -> list[Path]:
    """Write three Siemens EPI mosaics (6 slices of 32 × 32 tiled in a 3 × 3 grid of a 96 × 96 image).

    Returns [bold, diffusion, anonymised]:
    - ``bold``: BOLD EPI (TR 2000 ms, TE 30 ms: a weighting rule alone would say PD), the slice count in
      the CSA image header, slice normal +z (slices ascending);
    - ``diffusion``: a b=1000 volume whose count is only in (0019,xx0A), the CSA header giving the
      slice normal -z (slices descending: the frames must come out ascending, as every stack does);
    - ``anonymised``: a mosaic whose private attributes an earlier tool removed, so nothing says how
      many slices it holds.
    The first two must import as six slices each, at the positions of ``mosaic_truth``, in their own
    series and labelled EPI and DWI; the third must import whole and be labelled a mosaic.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study = generate_uid()
    made = []
    for name, count_in, normal, sequence_name, number in (
        ("bold.dcm", "csa", (0.0, 0.0, 1.0), "*epfid2d1_32", 1),
        ("diffusion.dcm", "mr-header", (0.0, 0.0, -1.0), "*ep_b1000t", 2),
        ("anonymised.dcm", "", (0.0, 0.0, 1.0), "*epfid2d1_32", 3),
    ):
        ds = _mosaic(
            series=generate_uid(),
            study=study,
            normal=normal,
            count_in=count_in,
            sequence_name=sequence_name,
            number=number,
        )
        ds.save_as(folder / name, enforce_file_format=True)
        made.append(folder / name)
    return made
