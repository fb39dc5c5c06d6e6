"""The real-world values of a frame for the viewer's live windowing, and their compact form (zlib int16 or
float32, little-endian) that the viewer inflates in the browser."""

import zlib

import numpy as np
import PIL.Image
from pydicom.dataset import Dataset

from .render import RenderError, frame_total, is_greyscale, iter_frames, modality_lut


def frame_values(ds: Dataset, frame_index: int, size: tuple[int, int]) -> np.ndarray:
    """Return one grey-scale frame's real-world values, resampled to the web image's (width, height).

    The viewer windows these live; resampled as the web image was, so a point
    in the web image is the same point in the values.

    Raises
    ------
    RenderError
        When the frame is not grey-scale or cannot be decoded.
    """
    if not is_greyscale(ds):
        raise RenderError("only grey-scale images have values to window")
    if not 0 <= frame_index < frame_total(ds):
        raise RenderError("no such frame")
    frame = next(iter_frames(ds, indices=[frame_index]))
    values = modality_lut(frame, ds, frame_index=frame_index)
    if values.shape[::-1] != tuple(size):
        whole = values_dtype(values) == np.dtype("<i2")
        values = np.asarray(PIL.Image.fromarray(values, mode="F").resize(size, PIL.Image.Resampling.LANCZOS))
        if whole:
            values = np.clip(np.rint(values), -32768, 32767)
    return values


def values_dtype(values: np.ndarray) -> np.dtype:
    """Return the dtype compact_values stores: little-endian int16 when every value is a whole number in range."""
    if values.dtype.kind in "iu":
        fits = values.size == 0 or (int(values.min()) >= -32768 and int(values.max()) <= 32767)
    else:
        fits = values.size == 0 or (
            bool(np.isfinite(values).all())
            and float(values.min()) >= -32768
            and float(values.max()) <= 32767
            and bool(np.array_equal(values, np.round(values)))
        )
    return np.dtype("<i2") if fits else np.dtype("<f4")


def compact_values(values: np.ndarray) -> bytes:
    """Return the real-world values zlib-compressed as int16 when they fit (CT HU), else float32, little-endian.

    A browser can inflate them (``DecompressionStream("deflate")``) into an
    ``Int16Array`` or ``Float32Array`` and window live; ``values_dtype`` says
    which, and ``expand_values`` is the inverse.
    """
    # Level 1: served per request, so speed first (a 512×512 CT slice: about 3 ms and 240 kB).
    return zlib.compress(np.ascontiguousarray(values, dtype=values_dtype(values)).tobytes(), 1)


def expand_values(data: bytes, shape: tuple[int, ...], dtype: np.dtype | str) -> np.ndarray:
    """Return the array compact_values packed, given its shape and ``values_dtype``."""
    array = np.frombuffer(zlib.decompress(data), dtype=np.dtype(dtype))
    return array.reshape(shape)
