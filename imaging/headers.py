"""Judge a file by its first bytes and parse its data set within the element and nesting limits.

Files are never read with ``force=True`` as such: a file without the 128-byte preamble and ``DICM`` prefix
is parsed with force only into a throw-away dataset, and accepted only when that dataset names its SOP
class and instance, after which it is rebuilt as a standard Part 10 file and read normally.  Every parse
counts the elements first (``census``), so a data set of a million tiny elements is refused before
pydicom keeps one.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import (
    _read_file_meta_info,  # File Meta only: cheap enough to run on every file listed
    read_partial,
)
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from .attributes import UID_PATTERN
from .census import census_reason
from .limits import UnreadableFile
from .withheld import quiet_pydicom

__all__ = ["PROBE_BYTES", "head_reason", "parse_dataset"]

logger = logging.getLogger(__name__)

PROBE_BYTES = 64 * 1024  # the first bytes in which a file must show that it is DICOM
_PREAMBLE = b"\x00" * 128 + b"DICM"
_MAX_ELEMENTS = 100_000  # top-level elements of one data set; real files have hundreds, a few thousand at most
# Elements and sequence items at all levels: an enhanced multi-frame object of 2,000 frames holds some 100,000;
# pydicom keeps about 700 bytes an item, so a data set of 300,000 empty items still fits a worker's 400 MB.
_MAX_ELEMENTS_IN_ALL = 300_000
_MAX_SEQUENCE_DEPTH = 32  # real objects nest a few levels, structured reports a dozen or so


def head_reason(head: bytes) -> str | None:
    """Return why a file is refused judging by its first bytes, or None when they may start a DICOM file.

    A Part 10 file has the 128-byte preamble and ``DICM``, then File Meta
    Information and a data set whose first element is not of group 0000.  A
    file without the preamble must begin with a group 0002 or 0008 element and
    pass ``_with_preamble``'s probe within its first bytes, as every such file
    pydicom bundles does.  Nothing is decoded, and at most ``PROBE_BYTES`` are
    parsed, so a large junk file costs the same as a small one.

    References
    ----------
    DICOM PS3.10 7.1 (preamble, prefix, File Meta Information), PS3.5 7.1 (data elements in tag order).
    """
    if head[128:132] == b"DICM":
        return None if _data_set_follows(head) else "not a DICOM file"
    if head[:2] not in (b"\x02\x00", b"\x08\x00", b"\x00\x08"):  # group 0002 or 0008, little or big endian
        return "not a DICOM file"
    try:
        with quiet_pydicom():  # the probe reads values, and pydicom's checks quote invalid ones
            _with_preamble(head[:PROBE_BYTES])
    except UnreadableFile as error:
        return str(error)
    return None


def _data_set_follows(head: bytes) -> bool:
    """Return whether the first element after a Part 10 file's File Meta Information could start a data set.

    Only a plain group number is checked: what the meta itself gets wrong is left for ``read_dataset`` to
    report, and a deflated data set is bounded when it is read.
    """
    plain = _plain_meta(head[:PROBE_BYTES])
    if plain is not None:
        syntax, end = plain
        tag = head[end : end + 4]
    else:
        stream = io.BytesIO(head[132:PROBE_BYTES])
        try:
            with quiet_pydicom():  # reading a UID is checking it, and pydicom's check quotes an invalid one
                meta = _read_file_meta_info(stream)
                syntax = str(meta.get("TransferSyntaxUID", ""))
        except Exception:  # noqa: BLE001 - a damaged meta is read_dataset's to report
            return True
        tag = stream.read(4)
    if syntax == DeflatedExplicitVRLittleEndian:
        return True
    if len(tag) < 4:
        return True
    group = int.from_bytes(tag[:2], "big" if syntax == ExplicitVRBigEndian else "little")
    return 0x0000 < group < 0xFFFE  # command group 0000 and item tags never start a stored data set


# The File Meta elements of PS3.10 Table 7.1-1 and their VRs; a meta holding any other is parsed by pydicom.
_META_VRS = {
    0x0000: b"UL",
    0x0001: b"OB",
    0x0002: b"UI",
    0x0003: b"UI",
    0x0010: b"UI",
    0x0012: b"UI",
    0x0013: b"SH",
    0x0016: b"AE",
    0x0017: b"AE",
    0x0018: b"AE",
    0x0026: b"UR",
    0x0027: b"UR",
    0x0028: b"UR",
    0x0100: b"UI",
    0x0102: b"OB",
}
_LONG_LENGTH_VRS = (b"OB", b"UR")


def _plain_meta(head: bytes) -> tuple[str, int] | None:
    """Return the Transfer Syntax UID and where the data set begins, for a plain File Meta; else None.

    Plain: every element one of PS3.10's with its VR, in Explicit VR Little Endian, its value within the
    head, the group length 4 bytes long and the syntax in ASCII. pydicom parses anything else (its reader
    takes a few hundred µs a file, this a few tens); for a plain meta both find the same.

    References
    ----------
    DICOM PS3.10 7.1 (File Meta Information), PS3.5 7.1.2 (explicit VR data elements).
    """
    offset, syntax = 132, ""
    while offset + 8 <= len(head):
        group, element = struct.unpack_from("<HH", head, offset)
        if group != 0x0002:
            return syntax, offset
        vr = head[offset + 4 : offset + 6]
        if _META_VRS.get(element) != vr:
            return None
        if vr in _LONG_LENGTH_VRS:
            if offset + 12 > len(head) or head[offset + 6 : offset + 8] != b"\x00\x00":
                return None
            (length,), start = struct.unpack_from("<I", head, offset + 8), offset + 12
        else:
            (length,), start = struct.unpack_from("<H", head, offset + 6), offset + 8
        end = start + length
        if end > len(head) or (element == 0x0000 and length != 4):
            return None
        if element == 0x0010:
            value = head[start:end].rstrip(b"\x00")
            if not value.isascii() or not value.replace(b".", b"").isdigit():
                return None
            syntax = value.decode("ascii")
        offset = end
    return None  # the head ends inside the meta


def parse_dataset(data: bytes) -> tuple[Dataset, bool]:
    """Return the dataset and whether the file ended inside an element (pydicom warns and drops it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if data[128:132] == b"DICM":
            try:
                dataset = _read(data)
            except UnreadableFile:
                raise
            except Exception as error:  # any parser failure is the same news for the author
                logger.info("Damaged DICOM header (%s)", type(error).__name__)  # pydicom's text may quote values
                raise UnreadableFile("damaged DICOM file") from error
        else:
            rebuilt = _with_preamble(data)
            try:
                dataset = _read(rebuilt)
            except UnreadableFile:
                raise
            except Exception as error:  # the probe parsed it, so this is damage further on
                logger.info("Damaged DICOM file without preamble (%s)", type(error).__name__)
                raise UnreadableFile("damaged DICOM file") from error
    # Nothing is read lazily, so the file's bytes need not outlive this call (they would double its memory).
    dataset.buffer = None
    # pydicom's warnings may quote element values (a name, an ID): they are read here, never logged.
    messages = [str(warning.message) for warning in caught]
    return dataset, any("End of file reached" in message for message in messages)


def _read(data: bytes, *, force: bool = False) -> Dataset:
    """Parse a file with pydicom, ending its top-level data set where junk begins.

    pydicom walks zeros as empty (0000,0000) elements, about 2 µs per 8 bytes, and keeps every distinct tag:
    a stored data set never holds the command group 0000 nor the same element twice in a row (PS3.5 7.1),
    so reading stops there.  The elements are counted first, at every level (``census``): more than
    ``_MAX_ELEMENTS`` at the top level, more than ``_MAX_ELEMENTS_IN_ALL`` elements and sequence items in
    all, or sequences nested more than ``_MAX_SEQUENCE_DEPTH`` deep are refused before pydicom keeps one.
    """
    reason = _census(data, force=force)
    if reason:
        logger.info("Refused a data set past the element or nesting limit")
        raise UnreadableFile(reason)
    return read_partial(io.BytesIO(data), stop_when=_ElementGuard(), force=force)


def _census(data: bytes, *, force: bool) -> str | None:
    """Return why the file's data set holds too many elements or nests too deeply, or None.

    pydicom reads the File Meta and stops at the data set's first element, so the census walks what pydicom
    will read, in the encoding pydicom will read it in (a deflated data set inflated, released on return).
    """
    start = _data_set_start(data) if not force else None
    if start is None:
        head = read_partial(io.BytesIO(data), stop_when=_at_once, force=force)
        start = (head.buffer.getvalue(), head.buffer.tell(), *head.original_encoding)
    data, offset, implicit, little = start
    return census_reason(
        data,
        offset,
        implicit=implicit,
        little=little,
        max_top_level=_MAX_ELEMENTS,
        max_count=_MAX_ELEMENTS_IN_ALL,
        max_depth=_MAX_SEQUENCE_DEPTH,
    )


def _data_set_start(data: bytes) -> tuple[bytes, int, bool, bool] | None:
    """Return (data, where the data set begins, implicit VR, little endian) as pydicom's reader would find
    them, from a plain File Meta (``_plain_meta``) that is not deflated; else None."""
    plain = _plain_meta(data) if data[128:132] == b"DICM" else None
    if plain is None or plain[0] in ("", DeflatedExplicitVRLittleEndian):
        return None
    syntax, offset = plain
    # As pydicom's read_partial: any syntax but these two is read as explicit VR little endian (PS3.5 A.4).
    return data, offset, syntax == ImplicitVRLittleEndian, syntax != ExplicitVRBigEndian


def _at_once(tag: int, vr: str | None, length: int) -> bool:
    """The ``stop_when`` callback that stops pydicom's reader before the data set's first element."""
    return True


class _ElementGuard:
    """The ``stop_when`` callback of pydicom's reader for the top-level data set (see ``_read``)."""

    def __init__(self) -> None:
        self.previous: tuple[int, str | None, int] | None = None

    def __call__(self, tag: int, vr: str | None, length: int) -> bool:
        # pydicom asks twice about an element whose VR it guessed wrong, with another VR: not a repeat.
        if tag >> 16 == 0 or (tag, vr, length) == self.previous:
            return True
        self.previous = (tag, vr, length)
        return False


def _with_preamble(data: bytes) -> bytes:
    """Return a file without preamble as a standard Part 10 file, or raise when it is not DICOM.

    The force read goes into a throw-away dataset that only has to prove the
    bytes are a real dataset: it must name its SOP class and instance and
    either carry File Meta Information with a Transfer Syntax UID or start
    with a group 0008 element (PS3.10 7.1; PS3.5 7.1).
    """
    try:
        probe = _read(data, force=True)
        sop_class = str(probe.get("SOPClassUID", ""))
        sop_instance = str(probe.get("SOPInstanceUID", ""))
        has_syntax = "TransferSyntaxUID" in probe.file_meta
        first_group = next((element.tag.group for element in probe if element.tag.group != 0x0002), None)
        encoding = probe.original_encoding
    except UnreadableFile:
        raise
    except Exception as error:  # forced parsing of arbitrary bytes fails in many ways
        raise UnreadableFile("not a DICOM file") from error
    has_class, has_instance = bool(UID_PATTERN.match(sop_class)), bool(UID_PATTERN.match(sop_instance))
    if not (has_syntax or (first_group == 0x0008 and (has_class or has_instance))):
        raise UnreadableFile("not a DICOM file")
    labels = (("SOP Class UID", has_class), ("SOP Instance UID", has_instance))
    missing = [label for label, present in labels if not present]
    if missing:  # DICOM all the same: say what it lacks
        raise UnreadableFile(f"incomplete DICOM header (no {' and no '.join(missing)})")
    if data[:2] == b"\x02\x00":  # File Meta Information without the preamble: only the prefix is missing
        return _PREAMBLE + data
    implicit, little = encoding
    syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    meta.TransferSyntaxUID = syntax
    buffer = DicomBytesIO()
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return _PREAMBLE + buffer.getvalue() + data
