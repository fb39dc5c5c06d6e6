"""Where a job writes (``dicom/<job>/``, ``images/<job>/``), and the deletion of whatever of it ends up in no
image."""

import logging
import uuid
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db.models import Q

from cases.models import Image

from .models import IngestJob

logger = logging.getLogger(__name__)


def stored_folder(job: IngestJob) -> str:
    """Where the job's de-identified objects are stored: each stays as its images' DICOM if it renders."""
    return stored_folder_of(job.token)


def stored_folder_of(token: uuid.UUID) -> str:
    """The stored folder of the job that has (or, for the DICOM receiver, will have) this token."""
    return f"dicom/{token}"


def images_folder(job: IngestJob) -> str:
    """Where the job's rendered web images and thumbnails are stored (the names ``views.media_file`` serves)."""
    return f"images/{job.token.hex}"


def listed(folder: str) -> list[str]:
    """Return the sorted names of the files in one storage folder (none when it does not exist)."""
    # Asked, not checked first: object storage has no folders, so exists() is false for one full of files.
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(f"{folder}/{name}" for name in names)


def delete_orphans(job: IngestJob, *, keep_stored: bool) -> int:
    """Delete the job's files that are in no image (de-identified objects too, unless ``keep_stored``)."""
    folders = [images_folder(job)] + ([] if keep_stored else [stored_folder(job)])
    used = _used(job, folders)
    orphans = [name for folder in folders for name in listed(folder) if name not in used]
    discard_files(orphans)
    return len(orphans)


def delete_unused(job: IngestJob, names: Iterable[str]) -> None:
    """Delete those of ``names`` (files one run wrote) that are in no image: a stalled run's own leftovers."""
    names = list(names)
    if names:
        used = _used(job, [images_folder(job), stored_folder(job)])
        discard_files(name for name in names if name not in used)


def _used(job: IngestJob, folders: list[str]) -> set[str]:
    """Return the names of the files in ``folders`` that an image names."""
    used: set[str] = set()
    for folder in folders:
        prefix = f"{folder}/"
        # A job's files go into its own case's images only: the case's index spares a scan of every image.
        rows = Image.objects.filter(series__case_id=job.case_id).filter(
            Q(file__startswith=prefix) | Q(thumbnail__startswith=prefix) | Q(dicom_file__startswith=prefix)
        )
        used.update(name for row in rows.values_list("file", "thumbnail", "dicom_file") for name in row)
    return used


def discard_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)
