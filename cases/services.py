"""Writes of the case domain: images and their files, annotations, reveals and status changes.

Reads are in ``selectors``; the viewer values in ``values``; masking burned-in text in ``masking``; the
author's checks of imported content in ``checks``.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.names import display_name
from accounts.roles import EDITOR
from discussions.services import notifications_send

from . import drafts, values, workflow
from .models import DIFFERENTIAL_ENTRIES, Annotation, Case, CaseReview, Image, Reveal, RevealDifferential, Series
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
        image_files_delete([image.file.name, image.thumbnail.name, image.medium.name])
        raise
    return image


def image_set_files(*, image: Image, prepared: PreparedImage) -> None:
    """Write the picture, thumbnail and rendition under new random names; replaced files go once committed."""
    replaced = [image.file.name, image.thumbnail.name, image.medium.name] if image.pk else []
    image.file.save(prepared.web.name, prepared.web, save=False)
    image.thumbnail.save(prepared.thumbnail.name, prepared.thumbnail, save=False)
    image.medium.name = ""
    if prepared.medium is not None:
        image.medium.save(prepared.medium.name, prepared.medium, save=False)
    image.width, image.height = prepared.width, prepared.height
    if replaced:
        transaction.on_commit(lambda: image_files_delete(replaced))


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
    names = [image.file.name, image.thumbnail.name, image.medium.name]
    image.delete()
    if image.dicom_file and not Image.objects.filter(dicom_file=image.dicom_file.name).exists():
        names.append(image.dicom_file.name)
    transaction.on_commit(lambda: image_files_delete(names))


@transaction.atomic
def series_delete(*, series: Series) -> None:
    """Delete a stage with its images and, once committed, their files."""
    names = []
    for image in series.images.all():
        names += [image.file.name, image.thumbnail.name, image.medium.name, image.dicom_file.name]
    series.delete()
    transaction.on_commit(lambda: image_files_delete(sorted(set(names))))


@transaction.atomic
def case_delete(*, case: Case) -> None:
    """Delete a case with its stages and, once committed, every stored file of theirs."""
    for series in case.series.all():
        series_delete(series=series)
    case.delete()


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


def case_reveal(
    *, case: Case, user=None, session_key: str = "", committed_answer: str = "", differential: Sequence[str] = ()
) -> Reveal:
    """Record that this reader revealed the case; the first committed answer and differential are kept.

    ``differential``: up to three diagnoses, most likely first (blank ones are left out).
    """
    reader = (
        {"user": user} if user is not None and user.is_authenticated else {"user": None, "session_key": session_key}
    )
    answer = committed_answer.strip()[: Reveal._meta.get_field("committed_answer").max_length]
    limit = RevealDifferential._meta.get_field("text").max_length
    entries = [text for text in (" ".join(text.split())[:limit] for text in differential) if text]
    try:
        with transaction.atomic():
            reveal, created = Reveal.objects.get_or_create(case=case, **reader, defaults={"committed_answer": answer})
            if created and entries:
                RevealDifferential.objects.bulk_create(
                    RevealDifferential(reveal=reveal, rank=rank, text=text)
                    for rank, text in enumerate(entries[:DIFFERENTIAL_ENTRIES], start=1)
                )
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
        unwritten = drafts.case_placeholder_fields(case)
        if problems or unwritten:
            verb = "submitted" if status == Case.Status.IN_REVIEW else "published"
            texts = [*map(str, problems)] + ([f"Still placeholder text: {', '.join(unwritten)}."] if unwritten else [])
            raise NotReadyToPublish(f"Not {verb}: {' '.join(texts)}", problems)
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


def image_files_delete(names: Iterable[str]) -> None:
    """Delete images' stored files; a DICOM object goes with the viewer values prepared from it."""
    names = [name for name in names if name]
    for name in names:
        default_storage.delete(name)
    values.dicom_values_delete(name for name in names if name.endswith(".dcm"))
