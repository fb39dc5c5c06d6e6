"""Read one candidate file into a DICOM dataset whose image is known to be renderable, without decoding it.

The first step of the pipeline (read → de-identify → group → render).  Before it, an upload is listed into
candidate files (``uploads``: single files, folders, ``zips``; the candidates and refusals are in
``sources``); here one candidate is read whole, held to the file limits (``limits``), parsed within the
element limits (``headers``) and its image checked (``image_checks``).
"""

from __future__ import annotations

import io
import logging
import zlib

from pydicom.dataset import Dataset
from pydicom.filereader import _read_file_meta_info  # File Meta only: cheap enough to run on every file
from pydicom.uid import DeflatedExplicitVRLittleEndian

from .headers import PROBE_BYTES, head_reason, parse_dataset
from .image_checks import check_image
from .limits import Limits, UnreadableFile
from .sources import COPY_BYTES, Source
from .withheld import quiet_pydicom

__all__ = ["read_dataset"]

logger = logging.getLogger(__name__)

_DEFLATED_UID = DeflatedExplicitVRLittleEndian.encode("ascii")


def read_dataset(source: Source, *, limits: Limits) -> Dataset:
    """Parse one candidate file and check that its image can be rendered, without decoding it.

    Parameters
    ----------
    source : Source or FileSource
        The candidate file.
    limits : Limits
        Size limits checked against the image header.

    Returns
    -------
    pydicom.dataset.Dataset
        The dataset, pixel data still encoded.

    Raises
    ------
    UnreadableFile
        With one of these reasons: "file cannot be opened", "empty file", "file too large", "not a DICOM
        file", "damaged DICOM file", "incomplete DICOM header (no SOP Instance
        UID)" and the like, "invalid DICOM header (…)", "no pixel data
        (structured report)", "no pixel data (<SOP class name>)", "incomplete
        image header (…)", "invalid image header (…)", "image too large (…)",
        "unsupported compression: <transfer syntax name>", "truncated pixel
        data", "damaged pixel data".  A reason names attributes and the
        limits, never a value read from the file.

    References
    ----------
    DICOM PS3.10 7.1 (preamble, prefix and File Meta Information), PS3.5 8.2
    (native pixel data length) and A.4 (encapsulated frames), PS3.3 C.7.6.3
    (Image Pixel module).
    """
    try:
        data = source.data
    except OSError as error:
        logger.info("A listed file could not be read (%s)", type(error).__name__)
        raise UnreadableFile("file cannot be opened") from error
    if not data:
        raise UnreadableFile("empty file")
    if len(data) > limits.max_file_bytes:
        raise UnreadableFile("file too large")
    with quiet_pydicom():  # pydicom's checks quote the invalid value; ours name the attribute
        _check_head(data, limits=limits)
        dataset, ended_early = parse_dataset(data)
        check_image(dataset, limits=limits, ended_early=ended_early)
    return dataset


def _check_head(data: bytes, *, limits: Limits) -> None:
    """Raise UnreadableFile when the first bytes are not DICOM or a deflated data set inflates past the limit.

    pydicom inflates a Deflated Explicit VR Little Endian data set whole before parsing it (PS3.5 A.5), so
    a small file could otherwise expand to any size in memory; here it is inflated a chunk at a time and
    thrown away, only counted.
    """
    reason = head_reason(data[:PROBE_BYTES])
    if reason:
        raise UnreadableFile(reason)
    if data[128:132] != b"DICM" or _DEFLATED_UID not in data[132:PROBE_BYTES]:
        return  # the File Meta cannot name the deflated syntax without its UID's characters: spare parsing it
    stream = io.BytesIO(data[132:PROBE_BYTES])
    try:
        with quiet_pydicom():  # reading a UID is checking it, and pydicom's check quotes an invalid one
            meta = _read_file_meta_info(stream)
    except Exception:  # noqa: BLE001 - a damaged meta is reported by the parse that follows
        return
    deflated = meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian
    if deflated and _inflates_past(memoryview(data)[132 + stream.tell() :], limits.max_file_bytes):
        raise UnreadableFile("file too large")


def _inflates_past(body: memoryview, limit: int) -> bool:
    """Return whether a raw deflate stream inflates to more than limit bytes, holding one chunk at a time."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    try:
        for start in range(0, len(body), COPY_BYTES):
            pending = body[start : start + COPY_BYTES]
            while pending:
                total += len(inflater.decompress(pending, COPY_BYTES))
                if total > limit:
                    return True
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        return False  # damage: the parse that follows reports it
    return False
