"""Black out rectangles of burned-in text in the stored pixels.

References
----------
DICOM PS3.15 E.1.1: burned-in identifying information must be removed from the
pixel data itself; the Basic Profile's attribute actions cannot reach it.
"""

from collections.abc import Sequence

import numpy as np
from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian


class MaskError(ValueError):
    """A rectangle that does not describe part of the image."""


Rectangle = tuple[int, int, int, int]  # x, y, width, height in pixels of the full image


def clip_rectangles(rectangles: Sequence[Sequence[int]], *, width: int, height: int) -> list[Rectangle]:
    """Return the rectangles clipped to the image; raise ``MaskError`` for empty or malformed ones."""
    clipped = []
    for rectangle in rectangles:
        if len(rectangle) != 4:
            raise MaskError("A mask needs x, y, width and height.")
        x, y, w, h = (int(value) for value in rectangle)
        left, top = max(0, x), max(0, y)
        right, bottom = min(width, x + w), min(height, y + h)
        if right <= left or bottom <= top:
            raise MaskError(f"The mask {x},{y},{w},{h} lies outside the {width}×{height} image.")
        clipped.append((left, top, right - left, bottom - top))
    return clipped


def mask_array(array: np.ndarray, rectangles: Sequence[Rectangle], *, fill: float | int = 0) -> np.ndarray:
    """Return a copy of a frame (rows × columns [× samples]) with the rectangles set to ``fill``."""
    masked = array.copy()
    for x, y, w, h in rectangles:
        masked[y : y + h, x : x + w, ...] = fill
    return masked


def mask_dataset(ds: Dataset, rectangles: Sequence[Rectangle]) -> Dataset:
    """Mask every frame of a dataset in place and store it uncompressed (Explicit VR Little Endian).

    The masked area takes the smallest stored value, which displays as black for
    MONOCHROME2 and as white for MONOCHROME1 — either way the text is gone.
    """
    pixels = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        masked = np.stack([mask_array(frame, rectangles, fill=pixels.min()) for frame in pixels])
    else:
        masked = mask_array(pixels, rectangles, fill=pixels.min())
    photometric = ds.PhotometricInterpretation
    if photometric.startswith("YBR"):
        photometric = "RGB"  # pixel_array has already converted the colour space
    ds.set_pixel_data(masked, photometric, int(ds.BitsStored), generate_instance_uid=False)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.BurnedInAnnotation = "NO"
    return ds
