"""Writes: images, reveals and status changes."""

import logging
from typing import IO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max

from .models import Case, Image, Reveal, Series
from .web_images import PreparedImage, UnusableImage, prepare_web_image

logger = logging.getLogger(__name__)


@transaction.atomic
def image_create(
    *, series: Series, prepared: PreparedImage, order: int = 0, caption: str = "", alt_text: str = ""
) -> Image:
    """Store a prepared picture and its thumbnail as an image of the series."""
    image = Image(series=series, order=order, caption=caption, alt_text=alt_text)
    image_set_files(image=image, prepared=prepared)
    try:
        image.save()
    except Exception:
        _delete_files([image.file.name, image.thumbnail.name])
        raise
    return image


def image_set_files(*, image: Image, prepared: PreparedImage) -> None:
    """Write the picture and thumbnail under new random names; replaced files go once committed."""
    replaced = [image.file.name, image.thumbnail.name] if image.pk else []
    image.file.save(prepared.web.name, prepared.web, save=False)
    image.thumbnail.save(prepared.thumbnail.name, prepared.thumbnail, save=False)
    image.width, image.height = prepared.width, prepared.height
    if replaced:
        transaction.on_commit(lambda: _delete_files(replaced))


def image_prepare(upload: IO[bytes]) -> PreparedImage:
    """Validate an upload under the site's limits; raises ``UnusableImage``."""
    return prepare_web_image(
        upload,
        max_bytes=settings.TEACHINGFILE_MAX_UPLOAD_BYTES,
        max_pixels=settings.TEACHINGFILE_MAX_IMAGE_PIXELS,
    )


def series_add_images(*, series: Series, uploads: list) -> list[tuple[str, str]]:
    """Store every usable upload as a new image of the series; return (file name, reason) for the rest.

    Good files are kept even when others in the same upload are refused. File
    names are shown to the author but never stored or logged: they may carry PHI.
    """
    next_order = (series.images.aggregate(highest=Max("order"))["highest"] or 0) + 1
    rejected = []
    for upload in uploads:
        try:
            prepared = image_prepare(upload)
        except UnusableImage as error:
            logger.warning("Refused an image upload for series %s: %s", series.pk, error)
            rejected.append((upload.name, str(error)))
            continue
        image_create(series=series, prepared=prepared, order=next_order)
        next_order += 1
    return rejected


def image_delete(*, image: Image) -> None:
    """Delete an image row and, once that is committed, its files."""
    names = [image.file.name, image.thumbnail.name]
    image.delete()
    transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def case_reveal(*, case: Case, user=None, session_key: str = "", committed_answer: str = "") -> Reveal:
    """Record that this reader revealed the case; the first committed answer is kept."""
    reader = (
        {"user": user} if user is not None and user.is_authenticated else {"user": None, "session_key": session_key}
    )
    answer = committed_answer.strip()[: Reveal._meta.get_field("committed_answer").max_length]
    try:
        with transaction.atomic():
            reveal, _ = Reveal.objects.get_or_create(case=case, **reader, defaults={"committed_answer": answer})
    except IntegrityError:
        # Two reveal requests raced; the other one won.
        reveal = Reveal.objects.get(case=case, **reader)
    return reveal


def reveal_assess(*, reveal: Reveal, assessment: str) -> Reveal:
    """Store the reader's own rating of how they did."""
    reveal.self_assessment = assessment
    reveal.save(update_fields=["self_assessment"])
    return reveal


def case_set_status(*, case: Case, status: str) -> Case:
    """Move a case through draft → in review → published → retired."""
    case.status = status
    case.save(update_fields=["status", "published_at", "updated"])
    logger.info("Case %s is now %s", case.number, status)
    return case
