"""A package's files made safe to store: each DICOM object read and de-identified again, each picture re-encoded.

A package from another site is untrusted input, whatever it says about itself: its DICOM goes through the
upload pipeline's reader and de-identifier (``imaging.read``, ``imaging.deidentify``) with the new case's keys,
so it is checked against the same rules and gets this case's UIDs and shifted dates; its web images are decoded
and re-encoded (``cases.web_images``), which drops any metadata they carry.
"""

import io
import logging
import tempfile
from dataclasses import dataclass

from django.core.files.base import File
from django.core.files.storage import default_storage

from cases.models import Case, dicom_upload_to
from cases.services import image_prepare
from cases.web_images import PreparedImage, UnusableImage
from imaging import deidentify as deid
from imaging.limits import UnreadableFile
from imaging.read import read_dataset
from imaging.sources import Source
from ingest.frames import FrameLabels, burned_in_check
from ingest.spool import ingest_limits

from .archive import PackageRefused

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedDicom:
    """A de-identified object stored for the new case, and whether its header alone holds it for review."""

    name: str
    held: bool
    labels: tuple[FrameLabels, ...]  # each frame's orientation, NM view and time after injection, from its header


def dicom_store(*, data: bytes, member: str, case: Case, picture: bytes) -> CheckedDicom:
    """De-identify one package member with ``case``'s keys and store it; refuse it with the reader's reason.

    It is held for burned-in text as an upload would be: by its header, or for a radiograph by text read in
    ``picture`` (the package's web image of its first frame), whatever the package says.
    """
    keys = deid.CaseKeys(uid_secret=bytes(case.deid_secret), date_offset_days=case.date_offset_days)
    try:
        dataset = read_dataset(Source(name=member, data=data), limits=ingest_limits())
        cleaned = deid.deidentify(dataset, keys=keys)
    except (UnreadableFile, deid.DeidentificationError) as error:
        raise PackageRefused(f"{member}: {error}.") from None
    except Exception as error:  # noqa: BLE001 - one odd object refuses the package, with a reason
        logger.warning("Package DICOM refused: unexpected %s", type(error).__name__)
        raise PackageRefused(f"{member}: damaged DICOM file.") from None
    frame_count = int(dataset.get("NumberOfFrames") or 1)
    held = cleaned.burned_in_risk or burned_in_check(dataset, frame_count=frame_count, first_web=picture)[0]
    with tempfile.TemporaryFile() as buffer:
        try:
            cleaned.dataset.save_as(buffer, enforce_file_format=True)
        except Exception as error:  # noqa: BLE001
            logger.warning("Package DICOM refused: unexpected %s while writing", type(error).__name__)
            raise PackageRefused(f"{member}: damaged DICOM file.") from None
        buffer.seek(0)
        name = default_storage.save(dicom_upload_to(None, "object.dcm"), File(buffer))
    labels = tuple(FrameLabels.of(cleaned.dataset, frame_index=index) for index in range(frame_count))
    return CheckedDicom(name=name, held=held, labels=labels)


def picture_prepare(*, data: bytes, member: str) -> PreparedImage:
    """Decode and re-encode one web image of the package under the site's upload limits."""
    upload = io.BytesIO(data)
    upload.size = len(data)
    try:
        return image_prepare(upload)
    except UnusableImage as error:
        raise PackageRefused(f"{member}: {error}") from None
