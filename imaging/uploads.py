"""Expand an upload (a single file, a folder or a zip archive) into candidate files and refusals.

Zips may hold one more level of zips (``zips``).  ``sources_from_bytes``, ``sources_from_file`` and
``sources_from_paths`` yield one :class:`~imaging.sources.Source` (or a source read later) per candidate
file and a :class:`~imaging.sources.Rejected` note for what cannot be one (unsafe paths, oversized
archives, empty files, first bytes that are not DICOM); ``candidate_names`` lists the same candidates by
name without decompressing anything.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .headers import PROBE_BYTES
from .limits import Limits
from .sources import FileSource, Rejected, Source, ZipMemberSource, candidate_from_head, is_zip, read_source
from .zips import expand_archive, member_path, skipped_member

__all__ = ["candidate_names", "sources_from_bytes", "sources_from_file", "sources_from_open_file", "sources_from_paths"]

logger = logging.getLogger(__name__)


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
        head = handle.read(PROBE_BYTES)
        yield from sources_from_open_file(path, name, handle, head=head, size=size, limits=limits)


def sources_from_open_file(
    path: Path, name: str, handle: BinaryIO, *, head: bytes, size: int, limits: Limits
) -> Iterator[FileSource | ZipMemberSource | Rejected]:
    """Yield the candidates of one file on disk, open and its first bytes (``head``) read.

    A zip's members are read later, each by the process that parses it; a file that is not a zip is judged by
    its head, which its ``FileSource`` carries so that the parsing process reads only the rest.  The handle
    must stay open while the candidates are consumed.
    """
    if is_zip(head):
        yield from expand_archive(name, handle, size=size, limits=limits, on_disk=path)
    else:
        source = functools.partial(FileSource, name, path, head)
        yield from candidate_from_head(name, head, size=size, limits=limits, source=source)


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
    head = handle.read(PROBE_BYTES)
    if is_zip(head):
        yield from expand_archive(name, handle, size=size, limits=limits, on_disk=None)
    else:
        source = functools.partial(read_source, name, head, handle, size)
        yield from candidate_from_head(name, head, size=size, limits=limits, source=source)


def candidate_names(name: str, handle: BinaryIO, *, size: int, limits: Limits, head: bytes | None = None) -> list[str]:
    """List one file's candidates by name, cheaply: a zip's central directory, nothing decompressed.

    The names are those ``sources_from_file`` gives the same file's candidates, in the same order, so a
    candidate's 1-based place in the list of an upload's files identifies it without its name: a zip inside
    the zip is one candidate here, however many files it holds, and a refused archive is one candidate.
    ``head``, the file's first bytes when already read, spares reading them again.
    """
    if head is None:
        handle.seek(0)
        head = handle.read(PROBE_BYTES)
        handle.seek(0)
    if not is_zip(head) or size > limits.max_archive_bytes:
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
        path = member_path(member.filename)
        if path is None:
            names.append(member.filename)
        elif not skipped_member(path):
            names.append(path)
    return names
