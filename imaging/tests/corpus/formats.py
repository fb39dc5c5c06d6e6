"""Test files in the formats real archives contain (issue 13 §5), made by the project: never a real patient.

Each ``make_*`` writes its files into ``folder`` and returns their paths; the
docstring says what is special about them and what the import must do.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, RLELossless, generate_uid

__all__ = [
    "DCMCJPEG",
    "adc_map",
    "csa2_header",
    "ct_12bit",
    "make_jpeg_extended_12bit",
    "make_parametric_maps",
    "make_segmentations",
    "make_siemens_mosaic",
    "mosaic_slice",
    "mosaic_truth",
    "phantom_12bit",
    "scan_header",
]

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


def ct_12bit(rows: int = 128, columns: int = 128) -> Dataset:
    """Return the phantom as an uncompressed 12-bit CT slice (stored value = HU + 1024)."""
    ds = _base(CT_IMAGE_STORAGE, modality="CT")
    _grey(ds, phantom_12bit(rows, columns), bits_stored=12)
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ds


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
    ds = ct_12bit()
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


SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
PARAMETRIC_MAP_STORAGE = "1.2.840.10008.5.1.4.1.1.30"
DEFLATED_IMAGE_FRAME_COMPRESSION = "1.2.840.10008.1.2.8.1"  # PS3.5 A.4.11 (2024): each frame deflated alone
MAP_SIZE = 24
ADC_RANGE = (0.0004, 0.0032)  # mm²/s: apparent diffusion coefficients from restricted diffusion to free water


def _segmentation(transfer_syntax: str) -> Dataset:
    """Return a two-frame BINARY segmentation of a round 'lesion' (1 bit a pixel, packed), as written by tools."""
    ds = _base(SEGMENTATION_STORAGE, modality="SEG")
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.SegmentationType = "BINARY"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = MAP_SIZE
    ds.BitsAllocated = ds.BitsStored = 1
    ds.HighBit = 0
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = 2
    ds.LossyImageCompression = "00"
    segment = Dataset()
    segment.SegmentNumber = 1
    segment.SegmentLabel = "Lesion"
    segment.SegmentAlgorithmType = "MANUAL"
    ds.SegmentSequence = [segment]
    y, x = np.mgrid[0:MAP_SIZE, 0:MAP_SIZE]
    masks = [(np.hypot(y - 12, x - 12) < radius).astype(np.uint8) for radius in (5, 8)]
    frames = [np.packbits(mask.ravel(), bitorder="little").tobytes() for mask in masks]
    if transfer_syntax == DEFLATED_IMAGE_FRAME_COMPRESSION:
        ds.PixelData = encapsulate([_raw_deflate(frame) for frame in frames])
        ds["PixelData"].VR = "OB"
    elif transfer_syntax == RLELossless:
        ds.PixelData = encapsulate([_rle_literal(frame) for frame in frames])
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = b"".join(frames)
    return ds


def _explicit_little_part10(ds: Dataset) -> bytes:
    """Return a Part 10 file of a syntax pydicom 3.0 does not know: the data set explicit VR little endian."""
    meta = DicomBytesIO()
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    return b"\0" * 128 + b"DICM" + meta.getvalue() + body.getvalue()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, no zlib header (RFC 1951)
    return packer.compress(data) + packer.flush()


def _rle_literal(data: bytes) -> bytes:
    """Return one RLE Lossless frame of a single segment written as literal runs (PS3.5 G.3)."""
    segment = b"".join(
        bytes((len(chunk) - 1,)) + chunk for chunk in (data[i : i + 128] for i in range(0, len(data), 128))
    )
    segment += b"\0" * (len(segment) % 2)
    header = struct.pack("<16L", 1, 64, *([0] * 14))
    return header + segment


def make_segmentations(folder: Path) -> list[Path]:
    """Write a binary segmentation (SEG) three ways: deflated data set, deflated frames, RLE.

    Like pydicom-data's liver SEG objects: a mask of a lesion over images that
    are not in the upload. Shown alone it is a white disc on black, and the
    teaching file draws no overlays, so each must be refused, whatever its
    transfer syntax, with a reason that says it is a segmentation.
    """
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, syntax in (
        ("seg_deflated.dcm", DeflatedExplicitVRLittleEndian),
        ("seg_deflated_frames.dcm", DEFLATED_IMAGE_FRAME_COMPRESSION),
        ("seg_rle.dcm", RLELossless),
    ):
        ds = _segmentation(syntax)
        if syntax == DEFLATED_IMAGE_FRAME_COMPRESSION:
            (folder / name).write_bytes(_explicit_little_part10(ds))
        else:
            ds.save_as(folder / name, enforce_file_format=True)
        made.append(folder / name)
    return made


def adc_map() -> np.ndarray:
    """Return two frames of an ADC map in mm²/s: a ramp over ``ADC_RANGE`` with a restricted spot."""
    low, high = ADC_RANGE
    ramp = np.linspace(low, high, MAP_SIZE * MAP_SIZE).reshape(MAP_SIZE, MAP_SIZE)
    frames = np.stack([ramp, ramp[::-1]])
    frames[:, 10:14, 10:14] = low
    return frames


def _parametric_map(kind: str, series: str) -> Dataset:
    ds = _base(PARAMETRIC_MAP_STORAGE, modality="MR", series=series)
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.ContentLabel = "ADC"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = MAP_SIZE
    ds.NumberOfFrames = 2
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [2, 2]
    values = adc_map()
    mapping = Dataset()
    mapping.LUTLabel = "ADC"
    mapping.LUTExplanation = "apparent diffusion coefficient"
    units = Dataset()
    units.CodeValue, units.CodingSchemeDesignator, units.CodeMeaning = "mm2/s", "UCUM", "mm2/s"
    mapping.MeasurementUnitsCodeSequence = [units]
    if kind == "float":
        ds.BitsAllocated = 32
        ds.FloatPixelData = values.astype("<f4").tobytes()
        slope, intercept = 1.0, 0.0
    elif kind == "double":
        ds.BitsAllocated = 64
        ds.DoubleFloatPixelData = values.astype("<f8").tobytes()
        slope, intercept = 1.0, 0.0
    else:  # stored in µm²/s as integers; the mapping gives mm²/s
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.PixelData = np.rint(values * 1e6).astype("<u2").tobytes()
        slope, intercept = 1e-6, 0.0
    mapping.RealWorldValueFirstValueMapped = 0
    mapping.RealWorldValueLastValueMapped = 65535
    mapping.RealWorldValueSlope = slope
    mapping.RealWorldValueIntercept = intercept
    shared = Dataset()
    shared.RealWorldValueMappingSequence = [mapping]
    ds.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for index in range(2):
        plane = Dataset()
        plane.ImagePositionPatient = [-24, -24, 5.0 * index]
        item = Dataset()
        item.PlanePositionSequence = [plane]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    return ds


def make_parametric_maps(folder: Path) -> list[Path]:
    """Write an ADC parametric map three ways: 32-bit float, 64-bit float, and 16-bit integers with a mapping.

    Values are in mm²/s, all between 0.0004 and 0.0032 (``adc_map``); the
    integer map stores µm²/s and maps them to mm²/s with its Real World Value
    Mapping slope of 1e-6. Each must import as two frames of one stage
    labelled a parametric map, windowed from its real values (not a window of
    width 1, which would show every pixel the same grey).
    """
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for kind in ("float", "double", "integer"):
        path = folder / f"adc_{kind}.dcm"
        _parametric_map(kind, generate_uid()).save_as(path, enforce_file_format=True)
        made.append(path)
    return made
