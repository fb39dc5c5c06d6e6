"""A grey slice written as a palette PNG over a grey ramp, its rows unfiltered and deflated by ISA-L.

The web image of every CT, MR and PET slice, written by the hundred per import.  Pillow wrote the same
picture with zlib at level 1 (run-length strategy); ISA-L's deflate at its level 1 gives a stream of about the
same size (+1 %, 80 kB for a 512×512 CT slice) in a quarter of the time (0.4 ms against 1.6 ms), and the
rest of the file is a few fixed chunks.  Any PNG decoder reads it: the stream is plain zlib.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib

__all__ = ["grey_palette_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GREY_RAMP = bytes(np.repeat(np.arange(256, dtype=np.uint8), 3))
_PALETTE_COLOUR = 3  # IHDR colour type: palette indices
_FILTER_NONE = 0
DEFLATE_LEVEL = 1


def grey_palette_png(pixels: np.ndarray) -> bytes:
    """Return 8-bit grey pixels (H×W) as a PNG of palette indices over a grey ramp: grey level i is index i.

    References
    ----------
    PNG (Third Edition), 5.2 (signature), 5.3 (chunk layout, CRC), 11.2.1 (IHDR, colour type 3),
    11.2.2 (PLTE), 11.2.3 (IDAT), 9.2 (filter type 0, None) and 10 (zlib compression).
    """
    if pixels.ndim != 2 or pixels.dtype != np.uint8 or 0 in pixels.shape:
        raise ValueError("grey_palette_png takes a non-empty H×W uint8 array")
    height, width = pixels.shape
    rows = np.empty((height, width + 1), dtype=np.uint8)
    rows[:, 0] = _FILTER_NONE
    rows[:, 1:] = pixels
    header = struct.pack(">IIBBBBB", width, height, 8, _PALETTE_COLOUR, 0, 0, 0)
    return b"".join(
        (
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", _GREY_RAMP),
            _chunk(b"IDAT", isal_zlib.compress(rows.data, DEFLATE_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
