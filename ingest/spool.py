"""The upload spool: raw uploads wait in a private folder outside the media (files 0600, never served) until
their task has de-identified them; the site's limits on what is read from them."""

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files.move import file_move_safe

from imaging.headers import PROBE_BYTES
from imaging.limits import Limits
from imaging.sources import Rejected, Source
from imaging.uploads import candidate_names, sources_from_open_file

from .models import IngestJob

logger = logging.getLogger(__name__)


def ingest_limits() -> Limits:
    return Limits(
        max_file_bytes=settings.TEACHINGFILE_MAX_DICOM_FILE_BYTES,
        max_archive_members=settings.TEACHINGFILE_MAX_ARCHIVE_FILES,
        max_archive_bytes=settings.TEACHINGFILE_MAX_ARCHIVE_BYTES,
        max_pixels_per_frame=settings.TEACHINGFILE_MAX_DICOM_FRAME_PIXELS,
    )


def spool_folder(job: IngestJob) -> Path:
    root = Path(settings.TEACHINGFILE_UPLOAD_SPOOL)
    if not root.exists():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root / job.token.hex


def spool_file(upload, path: Path) -> None:
    """Move (or write) one uploaded file into the spool, readable by its owner only; the name is not kept."""
    if hasattr(upload, "temporary_file_path"):  # Django spooled a large upload to a temporary file already
        file_move_safe(upload.temporary_file_path(), str(path))
        os.chmod(path, 0o600)
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as spooled:
        for chunk in upload.chunks():
            spooled.write(chunk)


def spool_delete(job: IngestJob) -> None:
    shutil.rmtree(spool_folder(job), ignore_errors=True)


def spooled_sources(job: IngestJob) -> Iterator[tuple[int, Source | Rejected]]:
    """Yield the spooled upload's candidates with the index the request gave each (see ``ingest_upload``).

    Each spooled file is opened once here and its first bytes read once: a plain file's rest is read by the
    worker that parses it, a zip's members are decompressed by the workers that parse them.
    """
    limits = ingest_limits()
    folder = spool_folder(job)
    offset = 0
    for path in sorted(folder.iterdir(), key=lambda spooled: int(spooled.name)):
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(PROBE_BYTES)
            listed = candidate_names(path.name, handle, size=size, limits=limits, head=head)
            places = {name: offset + place for place, name in enumerate(listed, start=1)}
            for source in sources_from_open_file(path, path.name, handle, head=head, size=size, limits=limits):
                yield _place_of(places, source.name, default=offset + 1), source
        offset += len(listed)


def _place_of(places: dict[str, int], name: str, *, default: int) -> int:
    """Return a candidate's index; a file inside a nested zip shares the index of that zip."""
    while name not in places and "/" in name:
        name = name.rsplit("/", 1)[0]
    return places.get(name, default)
