"""Read an upload into candidate files and the candidate files into DICOM datasets.

An upload is a single file, a folder or a zip archive (zips may hold one more
level of zips).  ``sources_from_bytes`` and ``sources_from_paths`` expand it
into :class:`Source` objects, one per candidate file, and :class:`Rejected`
notes for what cannot be a candidate (unsafe paths, oversized archives, empty
files).  ``read_dataset`` then parses one source's headers and checks that its
pixel data is present, complete, within the size limits and decodable by an
installed decoder, without decoding it.

Files are never read with ``force=True`` as such: a file without the 128-byte
preamble and ``DICM`` prefix is parsed with force only into a throw-away
dataset, and accepted only when that dataset names its SOP class and instance,
after which it is rebuilt as a standard Part 10 file and read normally.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import posixpath
import re
import shutil
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_fragmented_frames, parse_basic_offsets, parse_fragments
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import (
    _read_file_meta_info,  # File Meta only: cheap enough to run on every file listed
    read_partial,
)
from pydicom.filewriter import write_file_meta_info
from pydicom.pixels import get_decoder
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    MediaStorageDirectoryStorage,
)

from . import jpeg
from .census import census_reason
from .withheld import quiet_pydicom

__all__ = [
    "PIXEL_KEYWORDS",
    "FileSource",
    "Limits",
    "Rejected",
    "Source",
    "UnreadableFile",
    "ZipMemberSource",
    "candidate_names",
    "head_reason",
    "read_dataset",
    "sources_from_bytes",
    "sources_from_file",
    "sources_from_paths",
    "uid_name",
]

logger = logging.getLogger(__name__)

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_PREAMBLE = b"\x00" * 128 + b"DICM"
_HEAD_BYTES = 8192  # enough for the preamble and File Meta Information of any real file
_PROBE_BYTES = 64 * 1024  # the first bytes in which a file must show that it is DICOM
_COPY_BYTES = 1024 * 1024
_MAX_ELEMENTS = 100_000  # top-level elements of one data set; real files have hundreds, a few thousand at most
# Elements and sequence items at all levels: an enhanced multi-frame object of 2,000 frames holds some 100,000;
# pydicom keeps about 700 bytes an item, so a data set of 300,000 empty items still fits a worker's 400 MB.
_MAX_ELEMENTS_IN_ALL = 300_000
_MAX_SEQUENCE_DEPTH = 32  # real objects nest a few levels, structured reports a dozen or so
_MAX_NESTING = 1  # a zip inside the upload's zip is expanded; one more level is refused
_UID_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)+$")
_SKIPPED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}

#: SOP classes whose pixels are a mask over other images: shown alone they are a white silhouette on black,
#: and the teaching file draws no overlays. Refused whatever their transfer syntax (PS3.3 A.51).
NOT_SHOWN_ALONE = {
    "1.2.840.10008.5.1.4.1.1.66.4": (
        "segmentation object (a mask drawn on other images, not an image of its own): not imported; "
        "import the images it was drawn on"
    ),
}


class UnreadableFile(ValueError):
    """The file cannot be ingested; ``str(error)`` is the reason, in plain words for the author."""


@dataclass(frozen=True)
class Limits:
    """Upper bounds that keep one upload from exhausting memory or time.

    The defaults are sized for real studies and for a worker's memory (docs/decisions.md, "Junk refused
    early, uploads streamed"): one object may hold 128 MiB (a 250-slice enhanced CT, an angiography or
    ultrasound cine, a compressed breast tomosynthesis object), an archive may declare 2 GiB in 20,000
    files, one frame 32 million pixels (a 28-megapixel mammogram, a stitched long-leg radiograph).  The
    archive limits are checked against the sizes an archive declares before anything is
    decompressed; a member is never decompressed past its declared size, nor a deflated data set past
    ``max_file_bytes``.
    """

    max_file_bytes: int = 128 * 1024**2
    max_archive_members: int = 20_000
    max_archive_bytes: int = 2 * 1024**3
    max_pixels_per_frame: int = 32_000_000
    max_frames: int = 2_000


@dataclass(frozen=True)
class Source:
    """One candidate file from an upload, a folder or an archive.

    ``name`` is a display name for the ingest report only (the relative path
    inside a zip or folder, or the upload's name); it is never stored.
    """

    name: str
    data: bytes

    def __repr__(self) -> str:
        return f"Source(name={self.name!r}, data=<{len(self.data)} bytes>)"


@dataclass(frozen=True)
class FileSource:
    """A candidate file on disk, read only when parsed: a worker process reads it, not the one listing it."""

    name: str
    path: Path

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True)
class ZipMemberSource:
    """A candidate file inside a zip archive on disk, decompressed only when parsed, by the process parsing it.

    The member is found again by its ``ZipInfo`` (names may repeat inside an archive) and never read past
    the size the archive declares for it.
    """

    name: str
    archive: Path
    member: zipfile.ZipInfo

    def __repr__(self) -> str:
        return f"ZipMemberSource(name={self.name!r}, size={self.member.file_size})"

    @property
    def data(self) -> bytes:
        try:
            stat = self.archive.stat()
            archive = _open_archive(self.archive, os.getpid(), stat.st_ino, stat.st_mtime_ns, stat.st_size)
            with archive.open(self.member) as stream:
                return stream.read(self.member.file_size)
        except OSError:
            raise
        except Exception as error:  # noqa: BLE001 - zlib, lzma, bz2 and zipfile fail in their own ways
            logger.info("Damaged zip member (%s)", type(error).__name__)
            raise UnreadableFile("damaged file in the archive") from None


@functools.lru_cache(maxsize=4)
def _open_archive(path: Path, pid: int, *version: int) -> zipfile.ZipFile:
    """Return the archive open in this process, its central directory read once for all its members.

    Keyed by process (a forked worker must not share its parent's file offset) and by the file's inode, time
    and size (an archive rewritten in place is opened again).
    """
    return zipfile.ZipFile(path)


@dataclass(frozen=True)
class Rejected:
    """A file of an upload that was set aside, with the reason in plain words."""

    name: str
    reason: str


# --------------------------------------------------------------------------
# uploads, folders and archives


@dataclass
class _Budget:
    """What is left of the archive limits for one upload, shared by nested archives."""

    members: int
    bytes: int


def sources_from_bytes(name: str, data: bytes, *, limits: Limits) -> Iterator[Source | Rejected]:
    """Yield the candidate files of one uploaded file, expanding it when it is a zip archive.

    A zip is recognised by its magic bytes, not its extension.  Members whose
    normalised path is absolute or climbs out with ``..`` are rejected, so are
    empty files, files whose first bytes are not DICOM and archives larger than
    ``limits`` allow; macOS ``__MACOSX/`` and ``.DS_Store`` entries and
    DICOMDIR index files are skipped silently.

    Parameters
    ----------
    name : str
        The upload's name, used in the report only.
    data : bytes
        The upload's content.
    limits : Limits
        Size limits for files and archives.
    """
    yield from sources_from_file(name, io.BytesIO(data), size=len(data), limits=limits)


def sources_from_paths(
    paths: Iterable[Path], *, limits: Limits
) -> Iterator[FileSource | ZipMemberSource | Source | Rejected]:
    """Yield the candidate files under the given files and folders, expanding zip archives.

    Folders are walked recursively in sorted order, skipping hidden files and
    folders (names starting with a dot); symbolic links are followed while
    their target stays inside the folder given, and refused by name when it
    does not or is missing; display names are relative to the folder given.  Files and members of
    archives on disk are listed by their first bytes only and read in full by
    whoever parses them.
    """
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for name, found in _walk(path):
                if isinstance(found, Rejected):
                    yield found
                else:
                    yield from _source_from_file(found, name, limits=limits)
        else:
            yield from _source_from_file(path, path.name, limits=limits)


def _walk(folder: Path) -> list[tuple[str, Path | Rejected]]:
    """Return the visible regular files under folder and the links refused, sorted by their relative path.

    A link is followed when its target is inside the folder, a link to a folder only if that folder was not
    walked yet (so a loop of links ends); a file reached under two names is listed once, under the first.
    """
    root = folder.resolve()
    listed: list[tuple[str, Path | Rejected, Path | None]] = []
    walked = {root}
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(current.iterdir())
        except OSError as error:
            # No path in the log: exported folders are often named after the patient.
            logger.info("Skipped a folder that cannot be listed (%s)", type(error).__name__)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            name, link = entry.relative_to(folder).as_posix(), entry.is_symlink()
            try:
                target = entry.resolve(strict=True)
            except (OSError, RuntimeError):  # RuntimeError: links that lead round in a circle
                listed.append((name, Rejected(name, "broken link"), None))
                continue
            if link and not target.is_relative_to(root):
                kind = "folder" if target.is_dir() else "file"
                listed.append((name, Rejected(name, f"link to a {kind} outside the folder"), None))
            elif target.is_dir() and (not link or target not in walked):
                walked.add(target)
                pending.append(entry)
            elif target.is_file():
                listed.append((name, entry, target))
    listed.sort(key=lambda item: PurePosixPath(item[0]).parts)
    seen: set[Path] = set()
    files = []
    for name, entry, target in listed:
        if target not in seen:
            files.append((name, entry))
        if target is not None:
            seen.add(target)
    return files


def _source_from_file(path: Path, name: str, *, limits: Limits) -> Iterator[FileSource | ZipMemberSource | Rejected]:
    """Yield the candidates of one file on disk, judged by its first bytes."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield Rejected(name, "file not found")
        return
    except OSError:
        yield Rejected(name, "file cannot be opened")
        return
    with handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(_PROBE_BYTES)
        if _is_zip(head):
            yield from _archive(name, handle, size=size, limits=limits, on_disk=path)
        else:
            yield from _single(name, head, size=size, limits=limits, source=lambda: FileSource(name, path))


def sources_from_file(name: str, handle: BinaryIO, *, size: int, limits: Limits) -> Iterator[Source | Rejected]:
    """Yield the candidate files of one open, seekable file; a zip is read member by member, never whole.

    Each file and member is judged by its first bytes before the rest is read.

    Parameters
    ----------
    name : str
        The file's name, used in the report only.
    handle : BinaryIO
        The open file, positioned anywhere; it must stay open while the candidates are consumed.
    size : int
        Its size in bytes.
    limits : Limits
        Size limits for files and archives.
    """
    handle.seek(0)
    head = handle.read(_PROBE_BYTES)
    if _is_zip(head):
        yield from _archive(name, handle, size=size, limits=limits, on_disk=None)
    else:
        yield from _single(name, head, size=size, limits=limits, source=lambda: Source(name, _rest(head, handle, size)))


def candidate_names(name: str, handle: BinaryIO, *, size: int, limits: Limits) -> list[str]:
    """List one file's candidates by name, cheaply: a zip's central directory, nothing decompressed.

    The names are those ``sources_from_file`` gives the same file's candidates, in the same order, so a
    candidate's 1-based place in the list of an upload's files identifies it without its name: a zip inside
    the zip is one candidate here, however many files it holds, and a refused archive is one candidate.
    """
    handle.seek(0)
    is_zip = _is_zip(handle.read(_PROBE_BYTES))
    handle.seek(0)
    if not is_zip or size > limits.max_archive_bytes:
        return [name]
    try:
        with zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return [name]
    finally:
        handle.seek(0)
    declared = sum(member.file_size for member in members)
    files = [member for member in members if not member.is_dir()]
    if not files or len(members) > limits.max_archive_members or declared > limits.max_archive_bytes:
        return [name]
    names = []
    for member in files:
        path = _member_path(member.filename)
        if path is None:
            names.append(member.filename)
        elif not _skipped_member(path):
            names.append(path)
    return names


def _archive(
    name: str, handle: BinaryIO, *, size: int, limits: Limits, on_disk: Path | None
) -> Iterator[Source | ZipMemberSource | Rejected]:
    """Yield the candidates of a top-level archive."""
    if size > limits.max_archive_bytes:
        yield Rejected(name, "archive too large")
        return
    handle.seek(0)
    budget = _Budget(members=limits.max_archive_members, bytes=limits.max_archive_bytes)
    yield from _expand_zip(name, handle, limits=limits, budget=budget, depth=0, on_disk=on_disk)


def _single(
    name: str, head: bytes, *, size: int, limits: Limits, source: Callable[[], Source | FileSource | ZipMemberSource]
) -> Iterator[Source | FileSource | ZipMemberSource | Rejected]:
    """Yield one file that is not an archive, or why it is refused, from its first bytes and its size."""
    if not head:
        yield Rejected(name, "empty file")
    elif _is_dicomdir(name, head):
        logger.debug("Skipped a DICOMDIR index")
    elif size > limits.max_file_bytes:
        yield Rejected(name, "file too large")
    elif reason := head_reason(head):
        yield Rejected(name, reason)
    else:
        yield source()


def _rest(head: bytes, stream: BinaryIO, size: int) -> bytes:
    """Return the head and the rest of the stream, up to size bytes in all, copied once."""
    buffer = io.BytesIO()
    buffer.write(head)
    while buffer.tell() < size:
        chunk = stream.read(min(_COPY_BYTES, size - buffer.tell()))
        if not chunk:
            break
        buffer.write(chunk)
    return buffer.getvalue()


def head_reason(head: bytes) -> str | None:
    """Return why a file is refused judging by its first bytes, or None when they may start a DICOM file.

    A Part 10 file has the 128-byte preamble and ``DICM``, then File Meta
    Information and a data set whose first element is not of group 0000.  A
    file without the preamble must begin with a group 0002 or 0008 element and
    pass ``_with_preamble``'s probe within its first bytes, as every such file
    pydicom bundles does.  Nothing is decoded, and at most ``_PROBE_BYTES`` are
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
            _with_preamble(head[:_PROBE_BYTES])
    except UnreadableFile as error:
        return str(error)
    return None


def _data_set_follows(head: bytes) -> bool:
    """Return whether the first element after a Part 10 file's File Meta Information could start a data set.

    Only a plain group number is checked: what the meta itself gets wrong is left for ``read_dataset`` to
    report, and a deflated data set is bounded when it is read.
    """
    stream = io.BytesIO(head[132:_PROBE_BYTES])
    try:
        with quiet_pydicom():  # reading a UID is checking it, and pydicom's check quotes an invalid one
            meta = _read_file_meta_info(stream)
            syntax = str(meta.get("TransferSyntaxUID", ""))
    except Exception:  # noqa: BLE001 - a damaged meta is read_dataset's to report
        return True
    if syntax == DeflatedExplicitVRLittleEndian:
        return True
    tag = stream.read(4)
    if len(tag) < 4:
        return True
    group = int.from_bytes(tag[:2], "big" if syntax == ExplicitVRBigEndian else "little")
    return 0x0000 < group < 0xFFFE  # command group 0000 and item tags never start a stored data set


def _is_zip(data: bytes) -> bool:
    """Return whether data is a zip archive (a Part 10 file whose preamble happens to start with PK is not)."""
    return data[:4] in _ZIP_MAGIC and data[128:132] != b"DICM"


def _is_dicomdir(name: str, data: bytes) -> bool:
    """Return whether the file is a DICOMDIR, by its name or its Media Storage SOP Class (PS3.10 7.1)."""
    if posixpath.basename(name).upper() == "DICOMDIR":
        return True
    if data[128:132] != b"DICM":
        return False
    try:
        with quiet_pydicom():  # reading a UID is checking it, and pydicom's check quotes an invalid one
            meta = _read_file_meta_info(io.BytesIO(data[132:_HEAD_BYTES]))
            return meta.get("MediaStorageSOPClassUID") == MediaStorageDirectoryStorage
    except Exception:  # anything unreadable here is left for read_dataset to report
        return False


def _member_path(raw: str) -> str | None:
    """Return a zip member's normalised relative path, or None when it is absolute or leaves the archive."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    normal = posixpath.normpath(name)
    if ".." in normal.split("/"):
        return None
    return normal


def _skipped_member(path: str) -> bool:
    """Return whether a member is operating-system clutter rather than a candidate file."""
    parts = path.split("/")
    return "__MACOSX" in parts or parts[-1].lower() in _SKIPPED_NAMES


def _expand_zip(
    name: str, handle: BinaryIO, *, limits: Limits, budget: _Budget, depth: int, on_disk: Path | None
) -> Iterator[Source | ZipMemberSource | Rejected]:
    """Yield the candidates inside one zip archive, each member judged by its first bytes before the rest is read.

    Members of an archive on disk (``on_disk``) come as ``ZipMemberSource``, decompressed later by the
    process that parses them; the others are read here, one at a time.  A nested archive is copied to an
    anonymous temporary file, so that it is never held in memory either.
    """
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        yield Rejected(name, "damaged archive")
        return
    with archive:
        members = archive.infolist()
        declared = sum(member.file_size for member in members)
        if len(members) > budget.members or declared > budget.bytes:
            yield Rejected(name, "archive too large")
            return
        budget.members -= len(members)
        budget.bytes -= declared
        files = [member for member in members if not member.is_dir()]
        if not files:
            yield Rejected(name, "empty archive")
            return
        prefix = f"{name}/" if depth else ""
        for member in files:
            path = _member_path(member.filename)
            if path is None:
                yield Rejected(prefix + member.filename, "path outside the archive")
                continue
            shown = prefix + path
            if _skipped_member(path):
                continue
            if member.file_size == 0:
                yield Rejected(shown, "empty file")
                continue
            yield from _member(shown, archive, member, limits=limits, budget=budget, depth=depth, on_disk=on_disk)


def _member(
    shown: str,
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    *,
    limits: Limits,
    budget: _Budget,
    depth: int,
    on_disk: Path | None,
) -> Iterator[Source | ZipMemberSource | Rejected]:
    """Yield the candidates of one zip member: itself, what a nested archive holds, or why it is refused."""
    try:
        with archive.open(member) as stream:
            head = stream.read(_PROBE_BYTES)
            if _is_zip(head):
                if depth >= _MAX_NESTING:
                    yield Rejected(shown, "archive nested too deeply")
                    return
                with tempfile.TemporaryFile() as spool:
                    spool.write(head)
                    shutil.copyfileobj(stream, spool, _COPY_BYTES)
                    yield from _expand_zip(shown, spool, limits=limits, budget=budget, depth=depth + 1, on_disk=None)
                return
            if on_disk is not None and depth == 0:
                source = functools.partial(ZipMemberSource, shown, on_disk, member)
            else:
                source = functools.partial(_eager_member, shown, head, stream, member.file_size)
            yield from _single(shown, head, size=member.file_size, limits=limits, source=source)
    except RuntimeError:  # zipfile's signal for an encrypted member
        yield Rejected(shown, "encrypted file in the archive")
    except NotImplementedError:
        yield Rejected(shown, "unsupported compression in the archive")
    except UnreadableFile as error:
        yield Rejected(shown, str(error))
    except Exception as error:  # noqa: BLE001 - zlib, lzma, bz2 and zipfile fail in their own ways
        # The reason only: member names and zipfile's messages carry the path.
        logger.info("Damaged zip member (%s)", type(error).__name__)
        yield Rejected(shown, "damaged file in the archive")


def _eager_member(name: str, head: bytes, stream: BinaryIO, size: int) -> Source:
    """Return a member read in full, its head included; zipfile stops at the declared size."""
    return Source(name, _rest(head, stream, size))


# --------------------------------------------------------------------------
# one file → one dataset


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
        dataset, ended_early = _parse(data)
        _check_image(dataset, limits=limits, ended_early=ended_early)
    return dataset


def _check_head(data: bytes, *, limits: Limits) -> None:
    """Raise UnreadableFile when the first bytes are not DICOM or a deflated data set inflates past the limit.

    pydicom inflates a Deflated Explicit VR Little Endian data set whole before parsing it (PS3.5 A.5), so
    a small file could otherwise expand to any size in memory; here it is inflated a chunk at a time and
    thrown away, only counted.
    """
    reason = head_reason(data[:_PROBE_BYTES])
    if reason:
        raise UnreadableFile(reason)
    if data[128:132] != b"DICM":
        return
    stream = io.BytesIO(data[132:_PROBE_BYTES])
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
        for start in range(0, len(body), _COPY_BYTES):
            pending = body[start : start + _COPY_BYTES]
            while pending:
                total += len(inflater.decompress(pending, _COPY_BYTES))
                if total > limit:
                    return True
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        return False  # damage: the parse that follows reports it
    return False


def _parse(data: bytes) -> tuple[Dataset, bool]:
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
    head = read_partial(io.BytesIO(data), stop_when=_at_once, force=force)
    implicit, little = head.original_encoding
    return census_reason(
        head.buffer.getvalue(),
        head.buffer.tell(),
        implicit=implicit,
        little=little,
        max_top_level=_MAX_ELEMENTS,
        max_count=_MAX_ELEMENTS_IN_ALL,
        max_depth=_MAX_SEQUENCE_DEPTH,
    )


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
    has_class, has_instance = bool(_UID_PATTERN.match(sop_class)), bool(_UID_PATTERN.match(sop_instance))
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


# Grey or palette, colour, and the retired four-sample models (PS3.3 C.7.6.3.1.1): a decoder allocates by it.
_SAMPLES_PER_PIXEL = (1, 3, 4)


def _check_image(dataset: Dataset, *, limits: Limits, ended_early: bool) -> None:
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


def uid_name(value: object) -> str:
    """Return the name DICOM's UID registry gives a UID, or "" for one it does not list (never the UID itself)."""
    uid = UID(str(value or "").strip())
    return uid.name if uid and uid.name != str(uid) else ""


# The attributes that identify an object (PS3.3 C.12.1): without them it cannot be told apart from another.
_IDENTITY = (("SOPClassUID", "SOP Class UID"), ("SOPInstanceUID", "SOP Instance UID"))


def _check_identity(dataset: Dataset) -> None:
    """Raise UnreadableFile naming a missing or malformed SOP Class or Instance UID."""
    for keyword, label in _IDENTITY:
        value = str(dataset.get(keyword) or "").strip()
        if not value:
            raise UnreadableFile(f"incomplete DICOM header (no {label})")
        if not _UID_PATTERN.match(value):
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
        if not _UID_PATTERN.match(str(syntax).strip()):
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
