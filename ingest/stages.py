"""The rendering step: series groups turned into stages and images of the case, all or nothing per stage,
rendered in worker processes before the short transaction that saves them."""

import datetime
import io
import logging
from contextlib import closing

import PIL.Image
import pydicom
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max

from cases import renditions
from cases.models import STUDY_DAY_LIMIT, Case, Image, Modality, Phase, Plane, Series
from cases.page_cache import content_changed
from imaging import group, pictures

from .frames import RenderedObject, StoredFrame, frame_files, frame_name, render_object
from .lease import LeaseLost, Progress, claim
from .models import IngestJob
from .outcomes import ALREADY_IMPORTED, ALREADY_IN_CASE, IMPORTED, NOT_RENDERED, index_of, note
from .pool import CRASHED, bounded_map
from .storage import discard_files, images_folder

logger = logging.getLogger(__name__)


DICOM_MODALITIES = {
    "CR": Modality.RADIOGRAPH,
    "DX": Modality.RADIOGRAPH,
    "RG": Modality.RADIOGRAPH,
    "CT": Modality.CT,
    "MR": Modality.MR,
    "NM": Modality.NM,
    "PT": Modality.PET,
    "US": Modality.US,
    "RF": Modality.FLUOROSCOPY,
    "XA": Modality.ANGIOGRAPHY,
    "MG": Modality.MAMMOGRAPHY,
}


# The day of a stage is the day of its study: a series made later from the same study (a reformat, a screen
# capture) keeps its study's day rather than counting from the date it was made.
STUDY_DATE_KEYWORDS = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")


def _study_date(series_group: group.SeriesGroup) -> datetime.date | None:
    """Return the (shifted) date of the series' study, or None when no date attribute is readable."""
    first = series_group.instances[0]
    for keyword in STUDY_DATE_KEYWORDS:
        value = str(first.get(keyword) or "").strip()
        try:
            return datetime.datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            continue
    return None


def _study_day(case: Case, study_date: datetime.date | None) -> int | None:
    """Return the day of a study after the case's first one (day 0), which every import of the case shares.

    A study earlier than the case's first moves day 0 back to it, and every stage's day (imported or corrected
    by an author) moves by as many days, so the intervals between stages stay true. A date that would put a
    stage more than ``STUDY_DAY_LIMIT`` days from another (an archive's placeholder such as 19000101) gives no
    day: the author sets it. Call with the case locked.
    """
    if study_date is None:
        return None
    zero = case.study_day_zero
    if zero is not None and study_date - zero > datetime.timedelta(days=STUDY_DAY_LIMIT):
        return None
    if zero is None or study_date < zero:
        if zero is not None:
            moved = (zero - study_date).days
            highest = case.series.aggregate(highest=Max("study_day"))["highest"] or 0
            if highest + moved > STUDY_DAY_LIMIT:
                return None
            case.series.exclude(study_day=None).update(study_day=F("study_day") + moved)
            content_changed()  # the stages' days are on the case page; update() sends no signal
        # Not through save(): day 0 is bookkeeping of the imports, not an edit of the case for its history.
        Case.objects.filter(pk=case.pk).update(study_day_zero=study_date)
        case.study_day_zero = zero = study_date
    return (study_date - zero).days


def ingest_group(
    *,
    job: IngestJob,
    series_group: group.SeriesGroup,
    tracker: Progress,
    workers: int,
    outcomes: dict[int, tuple[str, str]],
    prerendered: dict[str, tuple] | None = None,
) -> dict | None:
    """Create (or extend) one stage from a series group; all or nothing for that stage; return its report or None.

    Frames are rendered and stored first, outside any transaction; the stage and its image rows are then
    written in one short one, so the write lock is never held while pixels are decoded. A group none of whose
    objects could be rendered (or all of which the case has) makes no stage.
    """
    written: list[str] = []
    objects: list[tuple[str, RenderedObject]] = []
    try:
        existing = Series.objects.filter(case=job.case, series_uid=series_group.series_uid).first()
        fresh = _not_in_case(series_group, existing, outcomes, tracker)
        if prerendered is not None:
            results = ((header.stored_name, *prerendered[header.stored_name][1:]) for header in fresh)
        else:
            modality = existing.modality if existing else DICOM_MODALITIES.get(series_group.modality, Modality.OTHER)
            invert = modality == Modality.NM  # nuclear medicine reads black on white
            tasks = ((header.stored_name, invert, images_folder(job)) for header in fresh)
            results = bounded_map(_render, tasks, workers=workers, failed=_render_failed, discard=_discard_rendered)
        with closing(results):  # a stop mid-way discards what the workers still had in flight
            for name, rendered, reason in results:
                if rendered is None:
                    note(outcomes, index_of(name), NOT_RENDERED, reason)
                    logger.warning("DICOM import %s could not render an object: %s", job.token, reason)
                else:
                    objects.append((name, rendered))
                    written += frame_files(rendered)
                tracker.advance()
        if not objects:
            return None
        series, images, added = _save_stage(job, series_group, objects)
    except Exception:
        discard_files(written)
        raise
    for name, _ in objects:
        # Not added: another import saved the same object while this one rendered it.
        if name in added:
            note(outcomes, index_of(name), IMPORTED, "")
        else:
            note(outcomes, index_of(name), ALREADY_IMPORTED, ALREADY_IN_CASE)
    if not added:
        return None
    try:
        _thumbnail_key_images(job, series)
    except (OSError, PIL.UnidentifiedImageError) as error:
        # The stage is saved and complete; pages show the key image's web image until a thumbnail exists.
        reason = type(error).__name__
        logger.warning("DICOM import %s made no thumbnail for stage %s (%s)", job.token, series.pk, reason)
    # Outside the job's folder, so no clean-up of the job removes them; a page without one shows the web image.
    renditions.images_medium_fill(series.images.all())
    held = sum(len(rendered.frames) for name, rendered in objects if name in added and rendered.held)
    return {"label": series.label, "files": len(added), "images": images, "series": series.pk, "held": held}


def _not_in_case(
    series_group: group.SeriesGroup, existing: Series | None, outcomes: dict[int, tuple[str, str]], tracker: Progress
) -> list:
    """Return the group's objects the stage does not hold yet; note the others as imported before."""
    known = set(existing.images.values_list("instance_uid", flat=True)) if existing else set()
    fresh = []
    for header in series_group.instances:
        if str(header.get("SOPInstanceUID", "")) in known:
            note(outcomes, index_of(header.stored_name), ALREADY_IMPORTED, ALREADY_IN_CASE)
            tracker.advance()
        else:
            fresh.append(header)
    return fresh


@transaction.atomic
def _save_stage(job: IngestJob, series_group: group.SeriesGroup, objects: list[tuple[str, RenderedObject]]):
    """Write the stage and the rows of its rendered objects; return (stage, images added, objects used)."""
    claim(job)  # first: a run that lost its claim saves no stage, and the job's row stays held until the commit
    # One import at a time per case: two jobs must not both create the same stage or the same orders.
    case = Case.objects.select_for_update().get(pk=job.case_id)
    series = _series_for(case, series_group)
    next_order = (series.images.aggregate(highest=Max("order"))["highest"] or 0) + 1
    # Checked again under the lock: another import of the same objects may have finished meanwhile.
    known = set(series.images.values_list("instance_uid", flat=True))
    new_images, added, raced = [], [], []
    for name, rendered in objects:
        if rendered.instance_uid in known:
            raced += frame_files(rendered)
            continue
        for frame_number, frame in enumerate(rendered.frames, start=1):
            new_images.append(_image_from_frame(series, frame, next_order, name, rendered, frame_number))
            next_order += 1
        added.append(name)
    if new_images and series.label_confirmed:
        # New images in a stage readers already see wait, like the stage did, for the author's check.
        series.label_confirmed = False
        series.save(update_fields=["label_confirmed"])
    Image.objects.bulk_create(new_images, batch_size=500)
    _mark_key_image(series)
    content_changed()  # bulk_create and update() send no signal
    transaction.on_commit(lambda: discard_files(raced))
    return series, len(new_images), added


def _mark_key_image(series: Series) -> None:
    """Make the middle image the stage's key image unless the author has chosen one."""
    if series.images.filter(is_key=True).exists():
        return
    orders = list(series.images.order_by("order", "pk").values_list("pk", flat=True))
    if orders:
        Image.objects.filter(pk=orders[len(orders) // 2]).update(is_key=True)


def _thumbnail_key_images(job: IngestJob, series: Series) -> list[str]:
    """Give the stage's key images that have none a thumbnail made from their web image; return the names.

    Named only if the image still has none: another import extending the same stage may have named its own
    meanwhile, and overwriting that name would leave its file in no image after its job's clean-up.
    """
    written = []
    for image in series.images.filter(is_key=True, thumbnail=""):
        with image.file.open("rb") as handle:
            picture = PIL.Image.open(io.BytesIO(handle.read()))
            picture.load()
        name = default_storage.save(frame_name(images_folder(job), ".jpg"), ContentFile(pictures.thumbnail_of(picture)))
        try:
            with transaction.atomic():  # named only under the claim: else the next run's cleanup may delete it
                claim(job)
                named = Image.objects.filter(pk=image.pk, thumbnail="").update(thumbnail=name)
        except LeaseLost:
            discard_files([name])
            raise
        if not named:
            discard_files([name])
            logger.info("DICOM import %s: another import named image %s's thumbnail first", job.token, image.pk)
            continue
        content_changed()  # update() sends no signal
        written.append(name)
    return written


def _render(task: tuple[str, bool, str]):
    """Render and store every frame of one stored object (runs in a worker): (name, RenderedObject or None, reason)."""
    name, invert, folder = task
    with default_storage.open(name) as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    return (name, *render_object(dataset, invert=invert, folder=folder))


def _render_failed(task: tuple[str, bool, str], problem: str) -> tuple:
    """The result of an object whose worker raised, returned something unsendable, or died."""
    return (
        task[0],
        None,
        "the image crashed the process rendering it" if problem == CRASHED else "could not be rendered",
    )


def _discard_rendered(result: tuple) -> None:
    """Delete the frames ``_render`` stored when its result cannot be sent back."""
    if result[1] is not None:
        discard_files(frame_files(result[1]))


def _series_for(case: Case, series_group: group.SeriesGroup) -> Series:
    """Find the stage this series was imported into before (its day kept), or create it, unconfirmed."""
    existing = Series.objects.filter(case=case, series_uid=series_group.series_uid).first()
    if existing:
        return existing
    highest = case.series.aggregate(highest=Max("order"))["highest"] or 0
    return Series.objects.create(
        case=case,
        order=highest + 1,
        modality=DICOM_MODALITIES.get(series_group.modality, Modality.OTHER),
        phase=series_group.phase if series_group.phase in Phase.values else "",
        plane=series_group.plane if series_group.plane in Plane.values else "",
        sequence=series_group.sequence[:60],
        technique=series_group.technique[:300],
        body_part=series_group.body_part[:64],
        series_uid=series_group.series_uid,
        study_day=_study_day(case, _study_date(series_group)),
        label_confirmed=False,
    )


def _image_from_frame(series, frame: StoredFrame, order, dicom_name, rendered: RenderedObject, frame_number) -> Image:
    """Return the (unsaved) image row of a stored frame."""
    return Image(
        series=series,
        order=order,
        file=frame.file,
        thumbnail=frame.thumbnail,
        width=frame.width,
        height=frame.height,
        dicom_file=dicom_name,
        frame_number=frame_number,
        instance_uid=rendered.instance_uid,
        slice_position_mm=frame.slice_position_mm,
        **frame.labels.image_fields(),
        window_center=frame.window.center if frame.window else None,
        window_width=frame.window.width if frame.window else None,
        pixel_spacing_mm=frame.pixel_spacing_mm,
        held_for_review=rendered.held,
        text_regions=rendered.text_regions,
    )
