"""What listing an upload yields, and how one candidate file is judged by its first bytes.

A candidate is a :class:`Source` (bytes in memory), a :class:`FileSource` (a file on disk) or a
:class:`ZipMemberSource` (a member of a zip on disk); the last two are read only by the process that parses
them.  What cannot be a candidate is a :class:`Rejected` note with its reason.  ``candidate_from_head``
decides between the two from a file's first bytes and size, before the rest is read.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydicom.filereader import _read_file_meta_info  # File Meta only: cheap enough to run on every file listed
from pydicom.uid import MediaStorageDirectoryStorage

from .headers import head_reason
from .limits import Limits, UnreadableFile
from .withheld import quiet_pydicom

__all__ = [
    "COPY_BYTES",
    "FileSource",
    "Rejected",
    "Source",
    "ZipMemberSource",
    "candidate_from_head",
    "is_zip",
    "read_source",
]

logger = logging.getLogger(__name__)

COPY_BYTES = 1024 * 1024  # the chunk in which a file or member is copied
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_HEAD_BYTES = 8192  # enough for the preamble and File Meta Information of any real file
_DICOMDIR_UID = MediaStorageDirectoryStorage.encode("ascii")


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
    """A candidate file on disk, read only when parsed: a worker process reads it, not the one listing it.

    ``head`` is what the listing read of it to judge it (its first bytes); the parsing process reads only the
    rest, so each byte of the file is read once.
    """

    name: str
    path: Path
    head: bytes = field(default=b"", compare=False, repr=False)

    @property
    def data(self) -> bytes:
        with self.path.open("rb") as handle:
            handle.seek(len(self.head))
            return self.head + handle.read()


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


def candidate_from_head(
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


def read_source(name: str, head: bytes, stream: BinaryIO, size: int) -> Source:
    """Return a candidate read in full once its head is judged: the head and the rest of the stream.

    A zip member's stream stops at the size its archive declares.
    """
    return Source(name, _rest(head, stream, size))


def _rest(head: bytes, stream: BinaryIO, size: int) -> bytes:
    """Return the head and the rest of the stream, up to size bytes in all, copied once."""
    buffer = io.BytesIO()
    buffer.write(head)
    while buffer.tell() < size:
        chunk = stream.read(min(COPY_BYTES, size - buffer.tell()))
        if not chunk:
            break
        buffer.write(chunk)
    return buffer.getvalue()


def is_zip(data: bytes) -> bool:
    """Return whether data is a zip archive (a Part 10 file whose preamble happens to start with PK is not)."""
    return data[:4] in _ZIP_MAGIC and data[128:132] != b"DICM"


def _is_dicomdir(name: str, data: bytes) -> bool:
    """Return whether the file is a DICOMDIR, by its name or its Media Storage SOP Class (PS3.10 7.1)."""
    if posixpath.basename(name).upper() == "DICOMDIR":
        return True
    if data[128:132] != b"DICM":
        return False
    if _DICOMDIR_UID not in data[132:_HEAD_BYTES]:
        return False  # the File Meta cannot name the class without its UID's characters: spare parsing it
    try:
        with quiet_pydicom():  # reading a UID is checking it, and pydicom's check quotes an invalid one
            meta = _read_file_meta_info(io.BytesIO(data[132:_HEAD_BYTES]))
            return meta.get("MediaStorageSOPClassUID") == MediaStorageDirectoryStorage
    except Exception:  # anything unreadable here is left for read_dataset to report
        return False
