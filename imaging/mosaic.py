"""Split Siemens mosaics into their slices, before de-identification removes what describes them.

Siemens scanners store each volume of an EPI series (BOLD, diffusion,
perfusion) as one "mosaic": the slices tiled row by row into one large image,
Image Type containing MOSAIC.  How many tiles hold a slice is written only in
private attributes: Number Of Images In Mosaic in the CSA image header
(0029,xx10 of the "SIEMENS CSA HEADER" block), or (0019,xx0A) of the
"SIEMENS MR HEADER" block; the CSA header also gives the slice normal.  The
de-identifier removes every private attribute, so ``split_mosaic`` runs first
and turns the mosaic into an ordinary multi-frame object: one frame per slice,
in order along the slice normal (as ``group`` orders stacks), each frame's
position in the Plane Position functional group (PS3.3 C.7.6.16.2.3), which
``group`` and ``render`` read.  Only numbers derived from the private header
are kept; the header itself goes with the other private attributes.

A mosaic whose header does not say how many slices it holds (an earlier tool
removed the private attributes) stays whole; ``group`` labels its stage as a
mosaic.

References
----------
Siemens' CSA header layout as documented by nibabel ("Siemens mosaic format",
nibabel.nicom) and SPM ``spm_dicom_headers``.
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

__all__ = ["MosaicLayout", "is_mosaic", "mosaic_layout", "read_csa_header", "split_mosaic"]

logger = logging.getLogger(__name__)

CSA_CREATOR = "SIEMENS CSA HEADER"
MR_HEADER_CREATOR = "SIEMENS MR HEADER"
MAX_CSA_TAGS = 1000
MAX_CSA_ITEMS = 1000
_TAG_HEADER = struct.Struct("<64si4s3i")  # name, VM, VR, SyngoDT, number of items, check
_ITEM_HEADER = struct.Struct("<4i")


@dataclass(frozen=True)
class MosaicLayout:
    """How a mosaic holds its slices: ``count`` tiles of ``rows`` × ``columns``, ``per_row`` to a row of tiles."""

    count: int
    rows: int
    columns: int
    per_row: int
    normal: tuple[float, float, float] | None  # the CSA header's slice normal, None when it does not give one


def is_mosaic(ds: Dataset) -> bool:
    """Return whether Image Type says the object is a mosaic of slices."""
    return "MOSAIC" in {str(value).strip().upper() for value in _as_list(ds.get("ImageType"))}


def read_csa_header(data: bytes) -> dict[str, list[str]]:
    """Return the items of a Siemens CSA header (version 1 or 2) by element name, as text.

    Raises
    ------
    ValueError
        When the header is malformed; the message names no value.
    """
    view = memoryview(data)
    if bytes(view[:4]) == b"SV10":
        version, position = 2, 8
    else:
        version, position = 1, 0
    count, _ = _unpack(struct.Struct("<2I"), view, position)
    position += 8
    if not 0 < count <= MAX_CSA_TAGS:
        raise ValueError("CSA header: implausible number of elements")
    found: dict[str, list[str]] = {}
    first_items = 0
    for number in range(count):
        name, multiplicity, _, _, items, _ = _unpack(_TAG_HEADER, view, position)
        position += _TAG_HEADER.size
        if not 0 <= items <= MAX_CSA_ITEMS:
            raise ValueError("CSA header: implausible number of items")
        if number == 1:
            first_items = items  # version 1 counts item lengths from the second element's item count
        values: list[str] = []
        wanted = multiplicity if multiplicity > 0 else items
        for index in range(items):
            lengths = _unpack(_ITEM_HEADER, view, position)
            position += _ITEM_HEADER.size
            length = lengths[1] if version == 2 else lengths[0] - first_items
            if length < 0 or position + length > len(view):
                if version == 2:
                    raise ValueError("CSA header: an item runs past the end")
                break
            if index < wanted and length:
                values.append(bytes(view[position : position + length]).split(b"\0", 1)[0].decode("latin-1").strip())
            position += length + (-length % 4)
        found[name.split(b"\0", 1)[0].decode("latin-1")] = values
    return found


def _unpack(layout: struct.Struct, view: memoryview, position: int) -> tuple:
    if position + layout.size > len(view):
        raise ValueError("CSA header: ends early")
    return layout.unpack_from(view, position)


def _private_value(ds: Dataset, creator: str, group: int, element: int):
    """Return the value of a private element by its creator, or None (PS3.5 7.8.1)."""
    try:
        return ds.private_block(group, creator)[element].value
    except KeyError:
        return None


def mosaic_layout(ds: Dataset) -> MosaicLayout | None:
    """Return how a Siemens mosaic holds its slices, or None when it is not one or its header does not say.

    The tiles form the smallest square grid that holds them all
    (``ceil(sqrt(count))`` a side), filled row by row.
    """
    if not is_mosaic(ds):
        return None
    count: int | None = None
    normal = None
    csa = _private_value(ds, CSA_CREATOR, 0x0029, 0x10)
    if isinstance(csa, bytes):
        try:
            header = read_csa_header(csa)
        except ValueError as error:
            logger.info("Unreadable Siemens CSA header (%s)", type(error).__name__)
            header = {}
        count = _first_int(header.get("NumberOfImagesInMosaic"))
        normal = _vector(header.get("SliceNormalVector"))
    if count is None:
        value = _private_value(ds, MR_HEADER_CREATOR, 0x0019, 0x0A)
        if isinstance(value, bytes):  # VR UN: an unsigned short (US), little endian
            value = int.from_bytes(value, "little") if len(value) == 2 else None
        count = _first_int(value)
    if not count or count < 1:
        return None
    per_row = math.ceil(math.sqrt(count))
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    if rows % per_row or columns % per_row or not rows or not columns:
        return None
    return MosaicLayout(count, rows // per_row, columns // per_row, per_row, normal)


def split_mosaic(ds: Dataset) -> bool:
    """Turn a Siemens mosaic into a multi-frame object of its slices, in place; return whether it was one.

    Sets Rows, Columns and Number of Frames to the slices', Image Position
    (Patient) to the first frame's, one Per-frame Functional Groups item a
    frame with its Plane Position, and takes MOSAIC out of Image Type.  The
    slices are ordered along the normal of the image plane (row cosine ×
    column cosine), so the frames of every stack run the same way.

    The mosaic's Image Position (Patient) is the top left corner of the whole
    mosaic as if it were one slice centred where the slices are: the first
    slice's corner lies half the difference in size further along the rows and
    columns; the next slices follow along the CSA slice normal by Spacing
    Between Slices (else Slice Thickness).

    References
    ----------
    DICOM PS3.3 C.7.6.2.1.1 (Image Position and Orientation (Patient)),
    C.7.6.16.2.3 (Plane Position (Patient) macro); nibabel's
    ``MosaicWrapper.image_position`` for the Siemens convention.
    """
    layout = mosaic_layout(ds)
    if layout is None:
        return False
    try:
        tiles = _tiles(ds, layout)
    except Exception as error:  # noqa: BLE001 - a mosaic that cannot be split is imported whole, labelled
        logger.info("A mosaic could not be split (%s)", type(error).__name__)
        return False
    positions = _positions(ds, layout)
    order = list(range(layout.count))
    if positions is not None:
        orientation = np.array([float(v) for v in ds.ImageOrientationPatient]).reshape(2, 3)
        along = [float(p @ np.cross(orientation[0], orientation[1])) for p in positions]
        order.sort(key=lambda index: along[index])
    _set_native_pixels(ds, tiles[order])
    ds.Rows, ds.Columns = layout.rows, layout.columns
    ds.NumberOfFrames = layout.count
    ds.ImageType = [value for value in _as_list(ds.ImageType) if str(value).strip().upper() != "MOSAIC"]
    if positions is not None:
        frames = []
        for index in order:
            plane = Dataset()
            plane.ImagePositionPatient = [_ds(value) for value in positions[index]]
            item = Dataset()
            item.PlanePositionSequence = Sequence([plane])
            frames.append(item)
        ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
        ds.ImagePositionPatient = list(frames[0].PlanePositionSequence[0].ImagePositionPatient)
    return True


def _tiles(ds: Dataset, layout: MosaicLayout) -> np.ndarray:
    """Return the mosaic's slices as a (count, rows, columns) array of its stored values."""
    mosaic = ds.pixel_array
    if mosaic.ndim != 2:
        raise ValueError("a mosaic is one grey-scale frame")
    grid = mosaic.reshape(layout.per_row, layout.rows, layout.per_row, layout.columns).swapaxes(1, 2)
    return grid.reshape(layout.per_row**2, layout.rows, layout.columns)[: layout.count]


def _set_native_pixels(ds: Dataset, frames: np.ndarray) -> None:
    """Store the frames uncompressed, in the dataset's byte order (explicit little endian if it was compressed)."""
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    order = "<" if ds.file_meta.TransferSyntaxUID.is_little_endian else ">"
    ds.PixelData = np.ascontiguousarray(frames, dtype=frames.dtype.newbyteorder(order)).tobytes()
    element = ds["PixelData"]
    element.is_undefined_length = False
    element.VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"


def _positions(ds: Dataset, layout: MosaicLayout) -> list[np.ndarray] | None:
    """Return each slice's Image Position (Patient), in mosaic order, or None without the geometry."""
    try:
        corner = np.array([float(v) for v in ds.ImagePositionPatient])
        cosines = np.array([float(v) for v in ds.ImageOrientationPatient]).reshape(2, 3)
        row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    except (AttributeError, TypeError, ValueError):
        return None
    spacing = _first_float(ds.get("SpacingBetweenSlices")) or _first_float(ds.get("SliceThickness"))
    if corner.shape != (3,) or not spacing or not np.isfinite(corner).all():
        return None
    normal = np.array(layout.normal) if layout.normal is not None else np.cross(cosines[0], cosines[1])
    normal = normal / (np.linalg.norm(normal) or 1.0)
    # rows run along the column cosine, columns along the row cosine (PS3.3 C.7.6.2.1.1)
    first = (
        corner
        + cosines[1] * row_spacing * (int(ds.Rows) - layout.rows) / 2
        + cosines[0] * column_spacing * (int(ds.Columns) - layout.columns) / 2
    )
    return [first + normal * spacing * index for index in range(layout.count)]


def _ds(value: float) -> str:
    """Return a number as a Decimal String of at most 16 characters (PS3.5 6.2)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if len(text) <= 16 else f"{value:.8g}"


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str | bytes | int | float):
        return [value]
    return list(value)


def _first_int(values) -> int | None:
    number = _first_float(values)
    return int(number) if number is not None and number == int(number) else None


def _first_float(values) -> float | None:
    for value in _as_list(values)[:1]:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) else None
    return None


def _vector(values: list[str] | None) -> tuple[float, float, float] | None:
    try:
        vector = tuple(float(value) for value in values or [])
    except ValueError:
        return None
    if len(vector) != 3 or not all(math.isfinite(v) for v in vector) or not any(vector):
        return None
    return vector  # type: ignore[return-value]
