"""Open an untrusted package zip under limits: its listing is checked before anything is decompressed.

Refused: a file that is not a zip; member names that are absolute, climb out with ``..``, use backslashes or
repeat; more members, or more bytes once decompressed, than the limits allow; a member that claims to expand
more than ``max_ratio`` times (a zip bomb); a member that holds more than it declares.
"""

import logging
import posixpath
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings

logger = logging.getLogger(__name__)


class PackageRefused(ValueError):
    """A package the site will not import; ``str(error)`` is the reason, in plain words for the person.

    ``logged`` is the reason for the operator's log: without the names of the zip's files, which may carry PHI.
    """

    def __init__(self, message: str, *, logged: str | None = None) -> None:
        super().__init__(message)
        self.logged = logged or message


@dataclass(frozen=True)
class PackageLimits:
    max_members: int = 20_000
    max_bytes: int = 2 * 1024**3
    max_member_bytes: int = 128 * 1024**2
    max_ratio: int = 200  # no member of the demo's packages expands over 11×; a zip bomb ~1000×
    ratio_from_bytes: int = 1024**2  # small members (JSON) may compress far better, and cost nothing

    @classmethod
    def from_settings(cls) -> "PackageLimits":
        return cls(
            max_members=settings.TEACHINGFILE_MAX_ARCHIVE_FILES,
            max_bytes=settings.TEACHINGFILE_MAX_ARCHIVE_BYTES,
            max_member_bytes=settings.TEACHINGFILE_MAX_DICOM_FILE_BYTES,
        )


class PackageArchive:
    """A checked zip: its members by name, each read at most to its declared size."""

    def __init__(self, handle: IO[bytes], *, limits: PackageLimits) -> None:
        try:
            self.zip = zipfile.ZipFile(handle)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            logger.info("Package refused: not a zip (%s)", type(error).__name__)
            raise PackageRefused("The file is not a zip archive (or it is damaged).") from None
        self.limits = limits
        self.members = _checked_members(infos, limits)

    def names(self) -> list[str]:
        return sorted(self.members)

    def has(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str) -> bytes:
        """Return a member's bytes; refuse a missing member or one that holds more than it declares."""
        info = self.members.get(name)
        if info is None:
            raise PackageRefused(
                f"The package names {name}, but the zip does not contain it.", logged="a file it names is missing"
            )
        try:
            with self.zip.open(info) as stream:
                data = stream.read(info.file_size + 1)
        except Exception as error:  # noqa: BLE001 - zlib, bz2, lzma and zipfile fail in their own ways
            logger.info("Package refused: damaged member (%s)", type(error).__name__)
            raise PackageRefused(f"{name} is damaged in the zip.", logged="a damaged member") from None
        if len(data) > info.file_size:
            raise PackageRefused(f"{name} holds more than the zip declares for it.", logged="a member past its size")
        return data


def _checked_members(infos: list[zipfile.ZipInfo], limits: PackageLimits) -> dict[str, zipfile.ZipInfo]:
    files = [info for info in infos if not info.is_dir()]
    if len(files) > limits.max_members:
        raise PackageRefused(f"The zip holds {len(files):,} files; a package may hold {limits.max_members:,}.")
    total = sum(info.file_size for info in files)
    if total > limits.max_bytes:
        raise PackageRefused(
            f"The zip expands to {total / 1024**2:,.0f} MB; a package may hold {limits.max_bytes / 1024**2:,.0f} MB."
        )
    members: dict[str, zipfile.ZipInfo] = {}
    for info in files:
        name = member_name(info.filename)
        if name in members:
            raise PackageRefused(f"The zip holds {name} twice.", logged="a member named twice")
        if info.file_size > limits.max_member_bytes:
            limit = f"{limits.max_member_bytes / 1024**2:,.0f} MB"
            raise PackageRefused(f"{name} is larger than {limit}.", logged=f"a member over {limit}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_from_bytes and ratio > limits.max_ratio:
            raise PackageRefused(
                f"{name} would expand {ratio:,.0f} times: the zip looks like a zip bomb.",
                logged=f"a member expanding {ratio:,.0f} times (zip bomb)",
            )
        members[name] = info
    return members


def member_name(raw: str) -> str:
    """Return a member's name if it stays inside the package; refuse absolute and climbing paths."""
    if "\\" in raw or raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or "\x00" in raw:
        raise PackageRefused("The zip holds a file with an absolute or unsafe path; it was not opened.")
    name = posixpath.normpath(raw)
    if name.startswith("../") or name == ".." or "/../" in f"/{raw}/":
        raise PackageRefused("The zip holds a file whose path climbs out of the package (../); it was not opened.")
    return name
