"""Writes: images, reveals and status changes."""

import io
import logging
import math
import struct
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

import numpy
import PIL.Image
import pydicom
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max

from . import workflow
from .imaging import mask, render
from .models import Annotation, Case, Image, Modality, Reveal, Series
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
    """Delete an image row and, once that is committed, its files (a DICOM object shared by frames stays)."""
    names = [image.file.name, image.thumbnail.name]
    image.delete()
    if image.dicom_file and not Image.objects.filter(dicom_file=image.dicom_file.name).exists():
        names.append(image.dicom_file.name)
    transaction.on_commit(lambda: _delete_files(names))


@transaction.atomic
def series_delete(*, series: Series) -> None:
    """Delete a stage with its images and, once committed, their files."""
    names = []
    for image in series.images.all():
        names += [image.file.name, image.thumbnail.name, image.dicom_file.name]
    series.delete()
    transaction.on_commit(lambda: _delete_files(sorted(set(names))))


@transaction.atomic
def case_delete(*, case: Case) -> None:
    """Delete a case with its stages and, once committed, every stored file of theirs."""
    for series in case.series.all():
        series_delete(series=series)
    case.delete()


@transaction.atomic
def image_apply_masks(*, image: Image, rectangles: list[list[int]]) -> None:
    """Black out rectangles (in web-image pixels) of burned-in text, in every stored form of the image.

    Frames that share one DICOM object are masked alike; the image is then no longer held for review.
    """
    image.refresh_from_db()  # an earlier mask in the same save may have replaced its files
    rectangles = mask.clip_rectangles(rectangles, width=image.width, height=image.height)
    siblings = [image]
    if image.dicom_file:
        siblings = list(Image.objects.filter(dicom_file=image.dicom_file.name).order_by("pk"))
        _mask_stored_dicom(image, rectangles)
    for sibling in siblings:
        with sibling.file.open("rb") as handle:
            picture = PIL.Image.open(io.BytesIO(handle.read()))
            picture.load()
        masked = PIL.Image.fromarray(
            mask.mask_array(numpy.asarray(picture), _scale(rectangles, image, sibling.width, sibling.height))
        )
        buffer = io.BytesIO()
        masked.save(buffer, format="PNG")
        buffer.seek(0)
        old = [sibling.file.name, sibling.thumbnail.name]
        image_set_files(image=sibling, prepared=image_prepare(buffer))
        sibling.dicom_file.name = image.dicom_file.name  # the masked object replaced the one loaded above
        sibling.held_for_review = False
        sibling.masks = [*sibling.masks, *[list(rectangle) for rectangle in rectangles]]
        sibling.save()
        transaction.on_commit(lambda names=old: _delete_files(names))


def _scale(rectangles, image: Image, width: int, height: int):
    sx, sy = width / image.width, height / image.height
    # Floor the start and ceil the end, so scaling never leaves a strip of text uncovered.
    return [
        (
            math.floor(x * sx),
            math.floor(y * sy),
            math.ceil((x + w) * sx) - math.floor(x * sx),
            math.ceil((y + h) * sy) - math.floor(y * sy),
        )
        for x, y, w, h in rectangles
    ]


def _mask_stored_dicom(image: Image, rectangles) -> None:
    with image.dicom_file.open("rb") as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    dicom_rectangles = _scale(rectangles, image, int(dataset.Columns), int(dataset.Rows))
    mask.mask_dataset(dataset, dicom_rectangles)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    old = image.dicom_file.name
    new = default_storage.save(f"dicom/{uuid.uuid4().hex}.dcm", ContentFile(buffer.getvalue()))
    Image.objects.filter(dicom_file=old).update(dicom_file=new)
    image.dicom_file.name = new
    transaction.on_commit(lambda: _delete_files([old]))


@transaction.atomic
def image_set_annotations(*, image: Image, annotations: Sequence[Mapping[str, Any]]) -> list[Annotation]:
    """Replace the image's annotations with these (kind, x1, y1, x2, y2, label, after_reveal), all or none."""
    image.annotations.all().delete()
    created = Annotation.objects.bulk_create([Annotation(image=image, **fields) for fields in annotations])
    logger.info("Image %s now has %d annotation(s)", image.pk, len(created))
    return created


class NotReadyToPublish(ValueError):
    """The case still has imported labels or images the author has not checked."""


def case_publication_problems(case: Case) -> list[str]:
    """List what must be checked before the case may be published."""
    problems = []
    unconfirmed = case.series.filter(label_confirmed=False).count()
    if unconfirmed:
        problems.append(f"{unconfirmed} imported stage(s) need their label and caption confirmed.")
    held = Image.objects.filter(series__case=case, held_for_review=True).count()
    if held:
        problems.append(f"{held} image(s) may carry burned-in text: confirm them clean or mask the text.")
    return problems


def _delete_files(names: list[str]) -> None:
    """Delete stored files; a DICOM object goes with the viewer values prepared from it."""
    for name in names:
        if not name:
            continue
        default_storage.delete(name)
        if name.endswith(".dcm"):
            folder = _values_folder(name)
            try:
                _, prepared = default_storage.listdir(folder)
            except FileNotFoundError:
                continue
            for file_name in prepared:
                default_storage.delete(f"{folder}/{file_name}")


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


def case_set_status(*, case: Case, status: str, by) -> Case:
    """Move a case along the workflow (draft → in review → published → retired) if this user may."""
    workflow.check_transition(case=case, status=status, user=by)
    if status == Case.Status.PUBLISHED:
        problems = case_publication_problems(case)
        if problems:
            raise NotReadyToPublish(" ".join(problems))
    case.status = status
    case.save(update_fields=["status", "published_at", "updated"])
    logger.info("Case %s is now %s", case.number, status)
    return case


@dataclass(frozen=True)
class ImageValues:
    """One frame's real-world values for the viewer, compacted, with how to show them."""

    data: bytes
    dtype: str
    inverted: bool  # high values are drawn dark: MONOCHROME1, and nuclear medicine read black on white


def image_values(*, image: Image) -> ImageValues | None:
    """Return a DICOM image's real-world values for live windowing.

    None when the image has none to give (a PNG or JPEG upload, a colour image, a damaged file): the viewer
    then windows the web image.  Prepared from the stored, de-identified (and masked) DICOM on the first
    request and kept beside it, under a name derived from the DICOM file's, so a masked copy gets its own.
    """
    if not image.dicom_file:
        return None
    name = f"{_values_folder(image.dicom_file.name)}/{image.frame_number}.bin"
    try:
        with default_storage.open(name, "rb") as handle:
            stored = handle.read()
    except FileNotFoundError:
        stored = _values_prepare(image)
        if stored is None:
            return None
        default_storage.save(name, ContentFile(stored))
    flags = stored[0]
    inverted = bool(flags & VALUES_MONOCHROME1) != (image.series.modality == Modality.NM)
    return ImageValues(stored[1:], "float32" if flags & VALUES_FLOAT32 else "int16", inverted)


def series_prepare_values(*, series: Series) -> int:
    """Prepare and keep the viewer values of every slice of a stage ahead of its first reader; return how many."""
    images = series.images.select_related("series").exclude(dicom_file="")
    return sum(image_values(image=image) is not None for image in images)


VALUES_FLOAT32, VALUES_MONOCHROME1 = 1, 2  # bits of the byte before the compacted values
VALUES_INVERTED = 2  # the same bit in a streamed record: drawn high-dark, for whatever reason


def series_values(*, images: list[Image]) -> Iterator[bytes]:
    """Yield each image's viewer values as one record, for streaming a whole stack in one response.

    A record is the image's id and the values' length (little-endian uint32 each), a flags byte (bit 0
    float32 rather than int16, bit 1 drawn inverted), then the compacted values; an image without values
    has length 0.
    """
    for image in images:
        values = image_values(image=image)
        if values is None:
            yield struct.pack("<IIB", image.pk, 0, 0)
            continue
        flags = (VALUES_FLOAT32 if values.dtype == "float32" else 0) | (VALUES_INVERTED if values.inverted else 0)
        yield struct.pack("<IIB", image.pk, len(values.data), flags) + values.data


def _values_prepare(image: Image) -> bytes | None:
    try:
        with image.dicom_file.open("rb") as handle:
            dataset = pydicom.dcmread(io.BytesIO(handle.read()))
        values = render.frame_values(dataset, image.frame_number - 1, (image.width, image.height))
    except (OSError, render.RenderError, pydicom.errors.InvalidDicomError) as error:
        logger.info("Image %s has no values to window (%s)", image.pk, type(error).__name__)
        return None
    flags = VALUES_FLOAT32 if render.values_dtype(values).name == "float32" else 0
    flags |= VALUES_MONOCHROME1 if render.is_monochrome1(dataset) else 0
    return bytes([flags]) + render.compact_values(values)


def _values_folder(dicom_name: str) -> str:
    return f"values/{PurePosixPath(dicom_name).stem}"
