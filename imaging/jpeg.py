"""Repair the scan headers of sequential JPEG frames that strict decoders refuse.

Some archives hold JPEG Extended (process 2 and 4) frames whose Start of Scan
header gives a spectral selection or successive approximation other than the
0, 63, 0, 0 that sequential DCT coding requires (ITU-T T.81 B.2.3).  The IJG
library inside dcmtk and GDCM ignores those four values in sequential mode (it
warns "Invalid SOS parameters for sequential JPEG"); libjpeg, behind
pylibjpeg, refuses the frame (pylibjpeg issue 73).  Writing the values the
standard requires makes libjpeg decode what IJG decodes: the entropy-coded data
is not touched, so the pixels are those dcmtk's ``dcmdjpeg`` gives (within one
stored value: the two libraries' inverse DCTs round differently).
"""

from __future__ import annotations

import io

from pydicom.encaps import parse_basic_offsets, parse_fragments

__all__ = ["frame_size", "repair_pixel_data", "repair_scan_headers"]

_SOI = b"\xff\xd8"
_SOS = 0xDA
# Start of Frame markers of the sequential DCT processes: baseline, extended (Huffman), extended (arithmetic).
_SEQUENTIAL_SOF = frozenset({0xC0, 0xC1, 0xC9})
_OTHER_SOF = frozenset({0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length
_REQUIRED = bytes((0, 63, 0))  # Ss, Se, and Ah:Al packed in one byte
# Markers whose segment gives the image's lines, samples per line and components: every SOFn, the
# hierarchical DHP (the final image's size) and JPEG-LS's SOF55.
_SIZE_MARKERS = _SEQUENTIAL_SOF | _OTHER_SOF | {0xDE, 0xF7}
_J2K_SIZ = b"\xff\x4f\xff\x51"  # SOC, then SIZ: a JPEG 2000 codestream's first two markers
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def repair_scan_headers(frame: bytes) -> bytes:
    """Return one JPEG frame with Ss, Se, Ah and Al of every sequential scan set to 0, 63, 0, 0.

    Progressive, lossless and hierarchical frames, and anything that is not a
    JPEG codestream, come back unchanged.

    References
    ----------
    ITU-T T.81 B.2.2 (frame header), B.2.3 (scan header: Ss = 0, Se = 63,
    Ah = Al = 0 in the sequential DCT processes).
    """
    fields = _bad_scan_fields(frame, 0, len(frame))
    return _with_required(frame, fields) if fields else frame


def repair_pixel_data(pixel_data: bytes) -> bytes | None:
    """Return encapsulated pixel data with every sequential frame's scan headers repaired, or None if none needed it.

    Each fragment that starts with an SOI marker is a frame's first fragment
    (PS3.5 A.4); its scan header follows the frame's tables, so it lies in that
    fragment.  Only the three bytes of each bad header change; fragment lengths
    stay.  The data is copied only when a header needs the repair.

    Raises
    ------
    ValueError
        When the encapsulated data cannot be parsed.
    """
    buffer = io.BytesIO(pixel_data)
    parse_basic_offsets(buffer)
    _, starts = parse_fragments(buffer)
    fields = []
    for item in starts:
        begin = item + 8
        length = int.from_bytes(pixel_data[item + 4 : begin], "little")
        fields += _bad_scan_fields(pixel_data, begin, min(begin + length, len(pixel_data)))
    return _with_required(pixel_data, fields) if fields else None


def _with_required(data: bytes, fields: list[int]) -> bytes:
    """Return a copy of data with the three scan-header bytes at each of ``fields`` set to 0, 63, 0."""
    repaired = bytearray(data)
    for field in fields:
        repaired[field : field + 3] = _REQUIRED
    return bytes(repaired)


def _bad_scan_fields(data: bytes, start: int, end: int) -> list[int]:
    """Return where the Ss, Se, Ah:Al bytes of the sequential scans in data[start:end] differ from 0, 63, 0.

    Walks the marker segments from SOI (T.81 B.1.1.4); after each scan header
    it skips the entropy-coded data, in which 0xFF is followed by 0x00 (a
    stuffed byte) or an RSTn marker only (B.1.1.5).  Stops at the first thing
    that is not a marker where one must be: the decoder reports such damage.
    """
    if data[start : start + 2] != _SOI:
        return []
    position, sequential, found = start + 2, False, []
    while position + 4 <= end:
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        if marker == 0xD9 or marker in _OTHER_SOF:  # end of image, or not a sequential DCT frame
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        sequential = sequential or marker in _SEQUENTIAL_SOF
        if marker != _SOS:
            position += 2 + length
            continue
        if not sequential:
            break
        field = position + 5 + 2 * data[position + 4]
        if field + 3 > min(end, position + 2 + length):
            break
        if data[field : field + 3] != _REQUIRED:
            found.append(field)
        position = _after_entropy_data(data, position + 2 + length, end)
    return found


def _after_entropy_data(data: bytes, position: int, end: int) -> int:
    """Return the position of the first marker after a scan's entropy-coded data."""
    while True:
        position = data.find(b"\xff", position, end)
        if position < 0 or position + 1 >= end:
            return end
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:  # fill bytes before a marker
            position += 1
        else:
            return position


def frame_size(frame: bytes) -> tuple[int, int, int] | None:
    """Return the rows, columns and components a JPEG, JPEG-LS or JPEG 2000 frame declares, or None.

    The decoders allocate what the codestream's own header declares, whatever the data set says, so a frame
    must be checked against Rows and Columns before it is decoded.  None means no such header was found
    (another compression, or damage the decoder reports).  A JPEG frame whose number of lines is 0 (to be
    given by a DNL marker after the first scan) comes back with 0 rows.

    References
    ----------
    ITU-T T.81 B.2.2 (frame header: P, Y, X, Nf) and B.3.2 (DHP); ITU-T T.87 C.2.2 (SOF55); ITU-T T.800
    A.5.1 (SIZ: Xsiz, Ysiz, XOsiz, YOsiz, Csiz) and I.5 (JP2 boxes).
    """
    if frame.startswith(_JP2_SIGNATURE):
        frame = _jp2_codestream(frame)
    if frame.startswith(_J2K_SIZ):
        if len(frame) < 42:
            return None
        width, height, left, top = (int.from_bytes(frame[at : at + 4], "big") for at in (8, 12, 16, 20))
        return max(height - top, 0), max(width - left, 0), int.from_bytes(frame[40:42], "big")
    if not frame.startswith(_SOI):
        return None
    position = 2
    while position + 4 <= len(frame) and frame[position] == 0xFF:
        marker = frame[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
        elif marker in _STANDALONE:
            position += 2
        elif marker in (_SOS, 0xD9):  # a scan or the end before any frame header
            return None
        elif marker in _SIZE_MARKERS:
            header = frame[position + 4 : position + 10]
            if len(header) < 6:
                return None
            return int.from_bytes(header[1:3], "big"), int.from_bytes(header[3:5], "big"), header[5]
        else:
            position += 2 + int.from_bytes(frame[position + 2 : position + 4], "big")
    return None


def _jp2_codestream(data: bytes) -> bytes:
    """Return the codestream inside a JP2 file (its ``jp2c`` box), or b"" when there is none."""
    position = 0
    while position + 8 <= len(data):
        length, kind = int.from_bytes(data[position : position + 4], "big"), data[position + 4 : position + 8]
        header = 8
        if length == 1:  # the length follows as 8 bytes
            length, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        if kind == b"jp2c":
            return data[position + header : position + length if length else len(data)]
        if length < header:
            return b""
        position += length
    return b""
