"""The viewer-values store: each DICOM frame's real-world values, prepared once by a task, read by requests.

Values let the viewer window live (CT in Hounsfield units, MR and NM in their own scale). They are computed
from the stored, de-identified and masked DICOM object by ``series_prepare_values`` (the import task, the
demo loader, masking) and only read afterwards: a request never decodes pixels and never writes. A frame
whose values are not prepared (yet, or ever: a colour or damaged object) has none to give; the viewer then
windows the web image.

Stored format, one file per frame at ``values/<DICOM object's stem>/<frame number>.bin``::

    offset 0  uint8    flags: bit 0 set = float32 values, clear = int16; bit 1 set = MONOCHROME1
    offset 1  uint32   length N of the values that follow, little-endian
    offset 5  N bytes  the frame's values, row by row, little-endian int16 or float32, zlib-compressed
                       (``imaging.values.compact_values``)

A file shorter than 5 + N bytes is still being written and is read as absent.

Streamed format (``series_values``, one response for a whole stack), a record per image::

    offset 0  uint32   image id, little-endian
    offset 4  uint32   length N of the values (0: the image has none), little-endian
    offset 8  uint8    flags: bit 0 set = float32 values, clear = int16; bit 1 set = drawn inverted
    offset 9  N bytes  the values as stored

"Drawn inverted" is MONOCHROME1 turned over for nuclear medicine, which is read black on white.
"""

import io
import logging
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import pydicom
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from imaging import render
from imaging import values as imaging_values

from .models import Image, Modality, Series
from .stored import stored_read, stored_reads

logger = logging.getLogger(__name__)

PREPARED_HEADER = struct.Struct("<BI")
PREPARED_FLOAT32, PREPARED_MONOCHROME1 = 1, 2
STREAMED_HEADER = struct.Struct("<IIB")
STREAMED_FLOAT32, STREAMED_INVERTED = 1, 2


@dataclass(frozen=True)
class ImageValues:
    """One frame's real-world values for the viewer, compacted, with how to show them."""

    data: bytes
    dtype: str
    inverted: bool  # high values are drawn dark: MONOCHROME1, and nuclear medicine read black on white


def image_values(*, image: Image) -> ImageValues | None:
    """Return a DICOM image's prepared values for live windowing, or None when none are prepared.

    None for a PNG or JPEG upload, a colour image, a damaged file, and a frame the task has not prepared yet.
    """
    if not image.dicom_file:
        return None
    return _values_of(image, stored_read(_values_name(image)))


def _values_of(image: Image, prepared: bytes | None) -> ImageValues | None:
    """Return the values of a prepared file's bytes, or None when they are not stored whole (still being written)."""
    if prepared is None or len(prepared) < PREPARED_HEADER.size:
        return None
    flags, length = PREPARED_HEADER.unpack_from(prepared)
    if len(prepared) != PREPARED_HEADER.size + length:
        return None
    inverted = bool(flags & PREPARED_MONOCHROME1) != (image.series.modality == Modality.NM)
    data = prepared[PREPARED_HEADER.size :]
    return ImageValues(data, "float32" if flags & PREPARED_FLOAT32 else "int16", inverted)


def series_prepare_values(*, series: Series) -> int:
    """Prepare and keep the viewer values of every frame of a stage not prepared yet; return how many.

    Run by the import task, the demo loader and the import command, and by masking for the new DICOM
    object; each DICOM object is read once, however many frames it holds.
    """
    images = [image for image in series.images.exclude(dicom_file="") if not _values_stored(image)]
    by_object: dict[str, list[Image]] = {}
    for image in images:
        by_object.setdefault(image.dicom_file.name, []).append(image)
    prepared = 0
    for frames in by_object.values():
        dataset = _values_dataset(frames[0])
        for image in frames:
            values = _values_compute(image, dataset) if dataset is not None else None
            if values is not None:
                default_storage.delete(_values_name(image))  # a partial file left by a stopped task
                default_storage.save(_values_name(image), ContentFile(values))
                prepared += 1
    return prepared


def series_values(*, images: list[Image]) -> Iterator[bytes]:
    """Yield each image's viewer values as one streamed record (see the module's docstring)."""
    names = [_values_name(image) if image.dicom_file else "" for image in images]
    read = stored_reads(name for name in names if name)  # several at a time from object storage
    for image, name in zip(images, names, strict=True):
        values = _values_of(image, next(read)) if name else None
        if values is None:
            yield STREAMED_HEADER.pack(image.pk, 0, 0)
            continue
        flags = (STREAMED_FLOAT32 if values.dtype == "float32" else 0) | (STREAMED_INVERTED if values.inverted else 0)
        yield STREAMED_HEADER.pack(image.pk, len(values.data), flags) + values.data


def dicom_values_delete(dicom_names: Iterable[str]) -> None:
    """Delete the values prepared from these stored DICOM objects (each goes with its object)."""
    for name in dicom_names:
        folder = _values_folder(name)
        try:
            _, prepared = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        for file_name in prepared:
            default_storage.delete(f"{folder}/{file_name}")


def _values_stored(image: Image) -> bool:
    """Whether the prepared values are stored whole, from their header and the file's size (nothing else read)."""
    name = _values_name(image)
    try:
        with default_storage.open(name, "rb") as handle:
            header = handle.read(PREPARED_HEADER.size)
    except FileNotFoundError:
        return False
    if len(header) < PREPARED_HEADER.size:
        return False
    _, length = PREPARED_HEADER.unpack_from(header)
    return default_storage.size(name) == PREPARED_HEADER.size + length


def _values_dataset(image: Image) -> pydicom.Dataset | None:
    try:
        with image.dicom_file.open("rb") as handle:
            return pydicom.dcmread(io.BytesIO(handle.read()))
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        logger.info("Image %s has no values to window (%s)", image.pk, type(error).__name__)
        return None


def _values_compute(image: Image, dataset: pydicom.Dataset) -> bytes | None:
    """Return the frame's values as they are kept: header, then zlib-compacted int16 or float32."""
    try:
        values = imaging_values.frame_values(dataset, image.frame_number - 1, (image.width, image.height))
    except render.RenderError as error:
        logger.info("Image %s has no values to window (%s)", image.pk, error)
        return None
    data = imaging_values.compact_values(values)
    flags = PREPARED_FLOAT32 if imaging_values.values_dtype(values).name == "float32" else 0
    flags |= PREPARED_MONOCHROME1 if render.is_monochrome1(dataset) else 0
    return PREPARED_HEADER.pack(flags, len(data)) + data


def _values_name(image: Image) -> str:
    return f"{_values_folder(image.dicom_file.name)}/{image.frame_number}.bin"


def _values_folder(dicom_name: str) -> str:
    return f"values/{PurePosixPath(dicom_name).stem}"
