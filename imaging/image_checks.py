"""Check that a parsed data set holds a complete image within the limits that an installed decoder reads.

Nothing is decoded: the image header is checked against the limits, native pixel data against the length
it must have, encapsulated pixel data frame by frame against the header (frames present, each compressed
frame's own declared size), and the transfer syntax against the decoders installed.
"""

from __future__ import annotations

import io
import logging
import struct

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_fragmented_frames, parse_basic_offsets, parse_fragments
from pydicom.pixels import get_decoder
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
)

from . import jpeg
from .attributes import UID_PATTERN, uid_name
from .limits import Limits, UnreadableFile

__all__ = ["NOT_SHOWN_ALONE", "PIXEL_KEYWORDS", "check_image"]

logger = logging.getLogger(__name__)

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

#: SOP classes whose pixels are a mask over other images: shown alone they are a white silhouette on black,
#: and the teaching file draws no overlays. Refused whatever their transfer syntax (PS3.3 A.51).
NOT_SHOWN_ALONE = {
    "1.2.840.10008.5.1.4.1.1.66.4": (
        "segmentation object (a mask drawn on other images, not an image of its own): not imported; "
        "import the images it was drawn on"
    ),
}


# Grey or palette, colour, and the retired four-sample models (PS3.3 C.7.6.3.1.1): a decoder allocates by it.
_SAMPLES_PER_PIXEL = (1, 3, 4)


def check_image(dataset: Dataset, *, limits: Limits, ended_early: bool) -> None:
    """Raise UnreadableFile unless the dataset holds a complete, decodable image within the limits."""
    _check_shown_alone(dataset)
    keyword = next((keyword for keyword in PIXEL_KEYWORDS if keyword in dataset), None)
    if keyword is None:
        if ended_early:
            raise UnreadableFile("truncated pixel data")
        raise UnreadableFile(_no_pixels_reason(dataset))
    _check_identity(dataset)

    rows = _header_int(dataset, "Rows", "Rows")
    columns = _header_int(dataset, "Columns", "Columns")
    bits = _header_int(dataset, "BitsAllocated", "Bits Allocated")
    samples = _header_int(dataset, "SamplesPerPixel", "Samples per Pixel", default=1)
    frames = _header_int(dataset, "NumberOfFrames", "Number of Frames", default=1)
    if samples not in _SAMPLES_PER_PIXEL:
        raise UnreadableFile("invalid image header (Samples per Pixel is not 1, 3 or 4)")
    if rows * columns > limits.max_pixels_per_frame:
        raise UnreadableFile(f"image too large (more than {limits.max_pixels_per_frame:,} pixels per frame)")
    if frames > limits.max_frames:
        raise UnreadableFile(f"image too large (more than {limits.max_frames:,} frames)")

    element = dataset[keyword]
    pixels = element.value or b""
    syntax = _transfer_syntax(dataset, encapsulated=element.is_undefined_length)
    _check_decoder(syntax)
    if element.is_undefined_length != syntax.is_compressed:
        raise UnreadableFile("damaged pixel data")  # compressed pixels are encapsulated, native ones never
    if element.is_undefined_length:
        _check_frames(pixels, frames, dataset)
        _check_frame_sizes(pixels, frames, dataset, rows=rows, columns=columns, samples=samples)
        _repair_jpeg_scans(syntax, dataset, pixels)
        return
    expected = _expected_bytes(dataset, rows=rows, columns=columns, samples=samples, bits=bits, frames=frames)
    if len(pixels) < expected:
        raise UnreadableFile("truncated pixel data")


def _check_shown_alone(dataset: Dataset) -> None:
    """Raise UnreadableFile for objects whose pixels mean nothing without the images they were made on."""
    sop_class = str(dataset.get("SOPClassUID") or "")
    if sop_class in NOT_SHOWN_ALONE:
        raise UnreadableFile(NOT_SHOWN_ALONE[sop_class])


def _no_pixels_reason(dataset: Dataset) -> str:
    """Return the "no pixel data (…)" reason naming what the object is instead."""
    name = uid_name(dataset.get("SOPClassUID"))
    if dataset.get("Modality") == "SR" or " SR " in f" {name} ":
        return "no pixel data (structured report)"
    return f"no pixel data ({name})" if name else "no pixel data"


# The attributes that identify an object (PS3.3 C.12.1): without them it cannot be told apart from another.
_IDENTITY = (("SOPClassUID", "SOP Class UID"), ("SOPInstanceUID", "SOP Instance UID"))


def _check_identity(dataset: Dataset) -> None:
    """Raise UnreadableFile naming a missing or malformed SOP Class or Instance UID."""
    for keyword, label in _IDENTITY:
        value = str(dataset.get(keyword) or "").strip()
        if not value:
            raise UnreadableFile(f"incomplete DICOM header (no {label})")
        if not UID_PATTERN.match(value):
            raise UnreadableFile(f"invalid DICOM header ({label} is not a UID)")


def _header_int(dataset: Dataset, keyword: str, label: str, *, default: int | None = None) -> int:
    """Return a positive integer header value or raise UnreadableFile naming the attribute."""
    value = dataset.get(keyword)
    if value is None or value == "":
        if default is None:
            raise UnreadableFile(f"incomplete image header (no {label})")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise UnreadableFile(f"invalid image header ({label} is not a positive whole number)")
    return number


def _transfer_syntax(dataset: Dataset, *, encapsulated: bool) -> UID:
    """Return the transfer syntax, filling it in from the encoding when a native file omits it."""
    meta = dataset.file_meta if hasattr(dataset, "file_meta") else None
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        if not UID_PATTERN.match(str(syntax).strip()):
            raise UnreadableFile("invalid DICOM header (Transfer Syntax UID is not a UID)")
        return UID(str(syntax).strip())
    if encapsulated:
        raise UnreadableFile("unsupported compression: unknown (the file names no transfer syntax)")
    implicit, little = dataset.original_encoding
    syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    if meta is None:
        dataset.file_meta = meta = FileMetaDataset()
    meta.TransferSyntaxUID = syntax
    return syntax


def _check_decoder(syntax: UID) -> None:
    """Raise UnreadableFile when no installed decoder handles the transfer syntax."""
    try:
        available = syntax.is_transfer_syntax and get_decoder(syntax).is_available
    except (NotImplementedError, ValueError):
        available = False
    if not available:
        name = uid_name(syntax) or "a transfer syntax DICOM does not define"
        raise UnreadableFile(f"unsupported compression: {name}")


def _repair_jpeg_scans(syntax: UID, dataset: Dataset, pixels: bytes) -> None:
    """Give sequential JPEG frames the scan header T.81 requires, which pylibjpeg insists on (see ``jpeg``)."""
    if syntax not in (JPEGBaseline8Bit, JPEGExtended12Bit):
        return
    try:
        repaired = jpeg.repair_pixel_data(pixels)
    except ValueError as error:
        raise UnreadableFile("damaged pixel data") from error
    if repaired is not None:
        dataset.PixelData = repaired
        logger.info("Repaired the scan header of a sequential JPEG image")


def _check_frames(pixels: bytes, frames: int, dataset: Dataset) -> None:
    """Raise UnreadableFile when encapsulated pixel data holds fewer frames than the header announces."""
    try:
        buffer = io.BytesIO(pixels)
        offsets = parse_basic_offsets(buffer)
        fragments, starts = parse_fragments(buffer)
    except (ValueError, EOFError) as error:
        raise UnreadableFile("damaged pixel data") from error
    if "ExtendedOffsetTable" in dataset:
        found = len(dataset.ExtendedOffsetTable) // 8
    elif offsets:
        found = len(offsets)
        data_length = len(pixels) - (starts[0] if starts else len(pixels))
        if any(offset >= data_length for offset in offsets):
            raise UnreadableFile("truncated pixel data")
    else:
        found = frames if fragments >= frames else fragments  # without a table a frame has one fragment or more
    if fragments == 0 or found < frames:
        raise UnreadableFile("truncated pixel data")


def _check_frame_sizes(pixels: bytes, frames: int, dataset: Dataset, *, rows: int, columns: int, samples: int) -> None:
    """Raise UnreadableFile when a compressed frame's own header declares another size than the data set.

    JPEG, JPEG-LS and JPEG 2000 decoders allocate what the codestream declares (T.81 SOF, T.87 SOF55, T.800
    SIZ), so a frame of a few bytes declaring 65,535 × 65,535 pixels would take gigabytes however small
    Rows and Columns are.  Each frame's header is read, never its data; a frame of another compression
    (RLE) has no such header and is left to its decoder.
    """
    extended = None
    if "ExtendedOffsetTable" in dataset and "ExtendedOffsetTableLengths" in dataset:
        extended = (dataset.ExtendedOffsetTable, dataset.ExtendedOffsetTableLengths)
    try:
        declared = {
            jpeg.frame_size(fragments[0] if len(fragments) == 1 else b"".join(fragments))
            for fragments in generate_fragmented_frames(pixels, number_of_frames=frames, extended_offsets=extended)
        }
    except (ValueError, EOFError, struct.error) as error:
        raise UnreadableFile("damaged pixel data") from error
    if any(size is not None and (size[:2] != (rows, columns) or size[2] > samples) for size in declared):
        logger.info("A compressed frame declares another size than its data set")
        raise UnreadableFile("damaged pixel data (a frame declares another size than Rows, Columns, Samples per Pixel)")


def _expected_bytes(dataset: Dataset, *, rows: int, columns: int, samples: int, bits: int, frames: int) -> int:
    """Return the length native pixel data must have (PS3.5 8.1.1; YBR_FULL_422 holds 2 samples a pixel)."""
    try:
        return get_expected_length(dataset, unit="bytes")
    except (AttributeError, TypeError, ValueError, KeyError):
        return (rows * columns * samples * bits * frames + 7) // 8
