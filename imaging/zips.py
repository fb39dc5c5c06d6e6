"""Expand zip archives into candidate files, each member judged by its first bytes before the rest is read.

The archive limits are checked against the sizes an archive declares before anything is decompressed, and
shared by the archives nested in it; a zip inside the upload's zip is expanded, one more level refused.
"""

from __future__ import annotations

import functools
import logging
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .headers import PROBE_BYTES
from .limits import Limits, UnreadableFile
from .sources import COPY_BYTES, Rejected, Source, ZipMemberSource, candidate_from_head, is_zip, read_source

__all__ = ["expand_archive", "member_path", "skipped_member"]

logger = logging.getLogger(__name__)

_MAX_NESTING = 1  # a zip inside the upload's zip is expanded; one more level is refused
_SKIPPED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


@dataclass
class _Budget:
    """What is left of the archive limits for one upload, shared by nested archives."""

    members: int
    bytes: int


def expand_archive(
    name: str, handle: BinaryIO, *, size: int, limits: Limits, on_disk: Path | None
) -> Iterator[Source | ZipMemberSource | Rejected]:
    """Yield the candidates of a top-level archive."""
    if size > limits.max_archive_bytes:
        yield Rejected(name, "archive too large")
        return
    handle.seek(0)
    budget = _Budget(members=limits.max_archive_members, bytes=limits.max_archive_bytes)
    yield from _expand_zip(name, handle, limits=limits, budget=budget, depth=0, on_disk=on_disk)


def member_path(raw: str) -> str | None:
    """Return a zip member's normalised relative path, or None when it is absolute or leaves the archive."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    normal = posixpath.normpath(name)
    if ".." in normal.split("/"):
        return None
    return normal


def skipped_member(path: str) -> bool:
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
            path = member_path(member.filename)
            if path is None:
                yield Rejected(prefix + member.filename, "path outside the archive")
                continue
            shown = prefix + path
            if skipped_member(path):
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
            head = stream.read(PROBE_BYTES)
            if is_zip(head):
                if depth >= _MAX_NESTING:
                    yield Rejected(shown, "archive nested too deeply")
                    return
                with tempfile.TemporaryFile() as spool:
                    spool.write(head)
                    shutil.copyfileobj(stream, spool, COPY_BYTES)
                    yield from _expand_zip(shown, spool, limits=limits, budget=budget, depth=depth + 1, on_disk=None)
                return
            if on_disk is not None and depth == 0:
                source = functools.partial(ZipMemberSource, shown, on_disk, member)
            else:
                source = functools.partial(read_source, shown, head, stream, member.file_size)
            yield from candidate_from_head(shown, head, size=member.file_size, limits=limits, source=source)
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
