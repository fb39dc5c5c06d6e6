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
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.roles import EDITOR
from accounts.templatetags.accounts import display_name
from discussions.services import notifications_send

from . import workflow
from .imaging import mask, render
from .models import Annotation, Case, CaseReview, Image, Modality, Reveal, Series
from .selectors import StageProblem, case_stage_problems
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
    if image.dicom_file:
        series_prepare_values(series=image.series)  # for the masked object, under its new name


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
    """Replace the image's annotations with these (kind, x1, y1, x2, y2, label, after_reveal), all or none.

    Marks that stay as they were keep their rows, so the case's history records only what changed.
    """
    stored: dict[tuple, list[Annotation]] = {}
    for mark in image.annotations.all():
        stored.setdefault(_annotation_key(mark), []).append(mark)
    result = []
    for fields in annotations:
        mark = Annotation(image=image, **fields)
        same = stored.get(_annotation_key(mark))
        if same:
            mark = same.pop()
        else:
            mark.save()
        result.append(mark)
    for gone in (mark for marks in stored.values() for mark in marks):
        gone.delete()
    logger.info("Image %s now has %d annotation(s)", image.pk, len(result))
    return result


def _annotation_key(mark: Annotation) -> tuple:
    return (mark.kind, mark.x1, mark.y1, mark.x2, mark.y2, mark.label, mark.after_reveal)


class NotReadyToPublish(ValueError):
    """The case still has imported labels or images the author has not checked: it may be neither submitted nor
    published. ``problems`` names each stage and what it still needs."""

    def __init__(self, message: str, problems: list[StageProblem]):
        super().__init__(message)
        self.problems = problems


@transaction.atomic
def image_confirm_clear(*, image: Image, by) -> Image:
    """Record the author's check that a held image carries no identifying text: readers may then see it."""
    if image.held_for_review:
        image.held_for_review = False
        image.save(update_fields=["held_for_review"])
        logger.info("Image %s confirmed free of identifying text by user %s", image.pk, by.pk)
    return image


@transaction.atomic
def series_confirm_label(*, series: Series, by) -> Series:
    """Record the author's check of an imported stage's label and caption: readers may then see the stage."""
    if not series.label_confirmed:
        series.label_confirmed = True
        series.save(update_fields=["label_confirmed"])
        logger.info("Stage %s label confirmed by user %s", series.pk, by.pk)
    return series


@dataclass(frozen=True)
class ChecksDone:
    """What one save of a case's check page did."""

    cleared: int
    masked: int
    labels: int
    deleted: int = 0


def case_apply_checks(
    *,
    case: Case,
    by,
    clear: Sequence[Image],
    masks: Sequence[tuple[Image, list[list[int]]]],
    labels: Sequence[Series],
    delete: Sequence[Image] = (),
) -> ChecksDone:
    """Confirm held images clean and stages' labels, delete held images, and mask others, all of one case.

    The confirmations and deletions are saved together; each mask then in a transaction of its own: masking
    decodes and encodes pixels, and SQLite's one write lock must not be held across many images (as for the
    admin's masks).
    """
    images = [*clear, *delete, *(image for image, _ in masks)]
    if any(image.series.case_id != case.pk for image in images) or any(series.case_id != case.pk for series in labels):
        raise ValueError("Every image and stage checked must belong to the case.")
    _checks_confirm(clear=clear, labels=labels, delete=delete, by=by)
    for image, rectangles in masks:
        image_apply_masks(image=image, rectangles=rectangles)
        logger.info("Image %s masked by user %s", image.pk, by.pk)
    return ChecksDone(cleared=len(clear), masked=len(masks), labels=len(labels), deleted=len(delete))


@transaction.atomic
def _checks_confirm(*, clear: Sequence[Image], labels: Sequence[Series], delete: Sequence[Image], by) -> None:
    for image in clear:
        image_confirm_clear(image=image, by=by)
    for series in labels:
        series_confirm_label(series=series, by=by)
    for image in delete:
        pk = image.pk
        image_delete(image=image)
        logger.info("Held image %s deleted by user %s", pk, by.pk)


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


@transaction.atomic
def case_set_status(*, case: Case, status: str, by, comments: str = "") -> Case:
    """Move a case along the workflow (draft → in review → published → retired) if this user may.

    A submission is announced to the editors; an editor's publication or return to draft is recorded as a
    review, with ``comments``, and announced to the case's authors. A return needs its comments.
    """
    workflow.check_transition(case=case, status=status, user=by)
    returned = status == Case.Status.DRAFT and case.status != status and by.has_perm("cases.publish_case")
    if returned and not comments.strip():
        raise workflow.StatusChangeRefused("Write the comments the authors should act on.")
    if status in (Case.Status.IN_REVIEW, Case.Status.PUBLISHED) and status != case.status:
        problems = case_stage_problems(case)
        if problems:
            verb = "submitted" if status == Case.Status.IN_REVIEW else "published"
            raise NotReadyToPublish(f"Not {verb}: {' '.join(map(str, problems))}", problems)
    previous = case.status
    if status == previous:
        return case
    case.status = status
    if status == Case.Status.IN_REVIEW:
        case.submitted_at = timezone.now()
    case.save(update_fields=["status", "published_at", "submitted_at", "updated"])
    logger.info("Case %s is now %s", case.number, status)
    if status == Case.Status.IN_REVIEW:
        _announce_submission(case=case, by=by)
    elif status == Case.Status.PUBLISHED and previous != Case.Status.RETIRED:
        _record_review(case=case, by=by, decision=CaseReview.Decision.PUBLISHED, comments=comments)
    elif returned:
        _record_review(case=case, by=by, decision=CaseReview.Decision.RETURNED, comments=comments)
    return case


def case_return(*, case: Case, by, comments: str) -> Case:
    """Send a case back to its authors as a draft, with the editor's comments on what to change."""
    if not by.has_perm("cases.publish_case"):
        raise workflow.StatusChangeRefused("Only editors return cases to their authors.")
    return case_set_status(case=case, status=Case.Status.DRAFT, by=by, comments=comments)


def _announce_submission(*, case: Case, by) -> None:
    editors = get_user_model().objects.filter(groups__name=EDITOR, is_active=True).exclude(pk=by.pk).distinct()
    message = f"{display_name(by)} submitted case {case.number} for review."
    url = reverse("admin:cases_case_review_queue")
    notifications_send(users=editors, case=case, message=message, subject=f"Case {case.number} to review", url=url)


def _record_review(*, case: Case, by, decision: str, comments: str) -> CaseReview:
    review = CaseReview.objects.create(case=case, editor=by, decision=decision, comments=comments.strip())
    if decision == CaseReview.Decision.PUBLISHED:
        message = f"Your case {case.number} was published."
    elif review.comments:
        message = f"Your case {case.number} was returned with comments: {review.comments}"
    else:
        message = f"Your case {case.number} was returned to draft."
    subject = f"Case {case.number}: {review.get_decision_display().lower()}"
    url = reverse("admin:cases_case_change", args=[case.pk])
    authors = case.authors.exclude(pk=by.pk)
    notifications_send(users=authors, case=case, message=message, subject=subject, url=url)
    return review


@dataclass(frozen=True)
class ImageValues:
    """One frame's real-world values for the viewer, compacted, with how to show them."""

    data: bytes
    dtype: str
    inverted: bool  # high values are drawn dark: MONOCHROME1, and nuclear medicine read black on white


# A prepared frame is kept as a header (flags byte, little-endian uint32 length of the values) and the values.
PREPARED_HEADER = struct.Struct("<BI")
PREPARED_FLOAT32, PREPARED_MONOCHROME1 = 1, 2
# A streamed record: image id and length (little-endian uint32 each), a flags byte, then the values.
STREAMED_HEADER = struct.Struct("<IIB")
STREAMED_FLOAT32, STREAMED_INVERTED = 1, 2


def image_values(*, image: Image) -> ImageValues | None:
    """Return a DICOM image's real-world values for live windowing.

    None when the image has none to give (a PNG or JPEG upload, a colour image, a damaged file): the viewer
    then windows the web image.  Read as prepared (``series_prepare_values``), else computed from the stored,
    de-identified and masked DICOM for this request alone: requests never write.
    """
    if not image.dicom_file:
        return None
    prepared = _values_read(image) or _values_compute(image)
    if prepared is None:
        return None
    flags, length = PREPARED_HEADER.unpack_from(prepared)
    inverted = bool(flags & PREPARED_MONOCHROME1) != (image.series.modality == Modality.NM)
    data = prepared[PREPARED_HEADER.size :]
    return ImageValues(data, "float32" if flags & PREPARED_FLOAT32 else "int16", inverted)


def series_prepare_values(*, series: Series) -> int:
    """Prepare and keep the viewer values of every frame of a stage not prepared yet; return how many.

    Run by the import task, the demo loader and the import command, and by masking for the new DICOM
    object; each DICOM object is read once, however many frames it holds.
    """
    images = [image for image in series.images.exclude(dicom_file="") if _values_read(image) is None]
    by_object: dict[str, list[Image]] = {}
    for image in images:
        by_object.setdefault(image.dicom_file.name, []).append(image)
    prepared = 0
    for frames in by_object.values():
        dataset = _values_dataset(frames[0])
        for image in frames:
            values = _values_compute(image, dataset) if dataset is not None else None
            if values is not None:
                default_storage.save(_values_name(image), ContentFile(values))
                prepared += 1
    return prepared


def series_values(*, images: list[Image]) -> Iterator[bytes]:
    """Yield each image's viewer values as one streamed record, for sending a whole stack in one response.

    A record is ``STREAMED_HEADER`` (image id, length, flags: bit 0 float32 rather than int16, bit 1 drawn
    inverted) then the compacted values; an image without values has length 0.
    """
    for image in images:
        values = image_values(image=image)
        if values is None:
            yield STREAMED_HEADER.pack(image.pk, 0, 0)
            continue
        flags = (STREAMED_FLOAT32 if values.dtype == "float32" else 0) | (STREAMED_INVERTED if values.inverted else 0)
        yield STREAMED_HEADER.pack(image.pk, len(values.data), flags) + values.data


def _values_read(image: Image) -> bytes | None:
    """Return the prepared values if they are stored whole (a file still being written is not)."""
    try:
        with default_storage.open(_values_name(image), "rb") as handle:
            prepared = handle.read()
    except FileNotFoundError:
        return None
    if len(prepared) < PREPARED_HEADER.size:
        return None
    _, length = PREPARED_HEADER.unpack_from(prepared)
    return prepared if len(prepared) == PREPARED_HEADER.size + length else None


def _values_dataset(image: Image) -> pydicom.Dataset | None:
    try:
        with image.dicom_file.open("rb") as handle:
            return pydicom.dcmread(io.BytesIO(handle.read()))
    except (OSError, pydicom.errors.InvalidDicomError) as error:
        logger.info("Image %s has no values to window (%s)", image.pk, type(error).__name__)
        return None


def _values_compute(image: Image, dataset: pydicom.Dataset | None = None) -> bytes | None:
    """Return the frame's values as they are kept: header, then zlib-compacted int16 or float32."""
    dataset = dataset if dataset is not None else _values_dataset(image)
    if dataset is None:
        return None
    try:
        values = render.frame_values(dataset, image.frame_number - 1, (image.width, image.height))
    except render.RenderError as error:
        logger.info("Image %s has no values to window (%s)", image.pk, error)
        return None
    data = render.compact_values(values)
    flags = PREPARED_FLOAT32 if render.values_dtype(values).name == "float32" else 0
    flags |= PREPARED_MONOCHROME1 if render.is_monochrome1(dataset) else 0
    return PREPARED_HEADER.pack(flags, len(data)) + data


def _values_name(image: Image) -> str:
    return f"{_values_folder(image.dicom_file.name)}/{image.frame_number}.bin"


def _values_folder(dicom_name: str) -> str:
    return f"values/{PurePosixPath(dicom_name).stem}"
