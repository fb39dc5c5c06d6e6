"""DICOM ingest: feed uploads to the imaging package and save what it returns.

Two steps. ``ingest_stage`` runs in the request (or the command): each file is
read and de-identified in memory, and only the de-identified object is written,
under ``dicom/<job>/``; the original bytes and file names are never stored.
``ingest_run`` (the background task, or the command) groups those objects into
series, renders every frame and saves stages and images, updating the job's
progress as it goes; objects that end up in no image are deleted whatever
happens. Both steps can spread the per-file work over worker processes.
"""

import datetime
import gc
import io
import logging
import multiprocessing
import tempfile
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import PIL.Image
import pydicom
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from .imaging import deidentify as deid
from .imaging import group, mosaic, read, render
from .models import STUDY_DAY_LIMIT, Case, Image, IngestJob, Modality, Phase, Plane, Series, image_upload_to

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


@dataclass
class StageReport:
    """What the in-request step did: files staged, and each refused file with its reason."""

    staged: int = 0
    rejected: list[read.Rejected] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)

    @property
    def action_summary(self) -> str:
        """Say what de-identification did, e.g. "X 4210, shift 630, U 300"."""
        return ", ".join(f"{action} {count}" for action, count in self.actions.most_common())

    # (series, text) of free-text descriptors: shown to the author once, never stored (they may carry PHI).
    withheld_descriptions: list[tuple[str, str]] = field(default_factory=list)
    # stored name → (header without pixels, rendered object or None, reason), when rendered while staging.
    prerendered: dict[str, tuple] = field(default_factory=dict)


def case_keys(case: Case) -> deid.CaseKeys:
    return deid.CaseKeys(uid_secret=bytes(case.deid_secret), date_offset_days=case.date_offset_days)


def ingest_limits() -> read.Limits:
    return read.Limits(
        max_file_bytes=settings.TEACHINGFILE_MAX_DICOM_FILE_BYTES,
        max_archive_members=settings.TEACHINGFILE_MAX_ARCHIVE_FILES,
        max_archive_bytes=settings.TEACHINGFILE_MAX_ARCHIVE_BYTES,
        max_pixels_per_frame=settings.TEACHINGFILE_MAX_DICOM_FRAME_PIXELS,
    )


def ingest_upload(*, case: Case, uploads: list, user) -> tuple[IngestJob, StageReport]:
    """Stage an author's uploaded files and queue their rendering."""
    from .tasks import ingest_job  # the task module imports this one

    job = IngestJob.objects.create(case=case, created_by=user)
    limits = ingest_limits()
    # Uploads stay in Django's files (memory or a request-scoped temporary file); zips are read member by member.
    sources = (
        item
        for upload in uploads
        for item in read.sources_from_file(upload.name, upload.file, size=upload.size, limits=limits)
    )
    report = ingest_stage(job=job, sources=sources)
    transaction.on_commit(lambda: ingest_job.enqueue(token=str(job.token)))
    return job, report


def ingest_stage(
    *,
    job: IngestJob,
    sources: Iterable[read.Source | read.FileSource | read.Rejected],
    workers: int = 1,
    render_now: bool = False,
) -> StageReport:
    """Read and de-identify every source in memory; store the de-identified objects for the job.

    With ``render_now`` (the command, which renders straight after) each object is also rendered while it is
    in memory, sparing a second read; a request leaves rendering to the background task.
    """
    report = StageReport()
    keys = case_keys(job.case)
    limits = ingest_limits()

    def candidates():
        for source in sources:
            if isinstance(source, read.Rejected):
                report.rejected.append(source)
            else:
                yield (source, keys, limits, _stored_folder(job), render_now)

    for name, stored, reason, held, actions, rendered in bounded_map(_clean, candidates(), workers=workers):
        if stored is None:
            report.rejected.append(read.Rejected(name=name, reason=reason))
            continue
        if rendered is not None:
            report.prerendered[stored] = rendered
        report.staged += 1
        report.actions.update(actions)
        _note_descriptions(report, held)
    for rejected in report.rejected:
        # The reason only: file names may carry PHI.
        logger.warning("DICOM import %s refused a file: %s", job.token, rejected.reason)
    job.total = report.staged
    job.report = {
        "rejected_count": len(report.rejected),
        "rejected_reasons": dict(Counter(rejected.reason for rejected in report.rejected)),
    }
    job.save(update_fields=["total", "report"])
    return report


def _clean(task: tuple[read.Source | read.FileSource, deid.CaseKeys, read.Limits, str, bool]):
    """Read, de-identify, store (and maybe render) one source in a worker.

    Returns (name, stored name or None, reason, held descriptors, actions, rendered or None).
    """
    source, keys, limits, folder, render_now = task
    try:
        dataset = read.read_dataset(source, limits=limits)
        mosaic.split_mosaic(dataset)  # before de-identification removes the private header that describes it
        cleaned = deid.deidentify(dataset, keys=keys)
    except (read.UnreadableFile, deid.DeidentificationError) as error:
        return source.name, None, str(error), {}, Counter(), None
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
        logger.warning("Unexpected %s while reading a DICOM file", type(error).__name__)
        return source.name, None, "damaged DICOM file", {}, Counter(), None
    # Written through a temporary file, not a bytes buffer: a buffer's copy would be a third copy of the
    # pixel data in memory at the same time (docs/decisions.md, "Junk refused early, uploads streamed").
    with tempfile.TemporaryFile() as buffer:
        try:
            cleaned.dataset.save_as(buffer, enforce_file_format=True)
        except Exception as error:  # noqa: BLE001
            logger.warning("Unexpected %s while writing a de-identified file", type(error).__name__)
            return source.name, None, "damaged DICOM file", {}, Counter(), None
        buffer.seek(0)
        stored = default_storage.save(f"{folder}/{uuid.uuid4().hex}.dcm", File(buffer))
    series = f"series {dataset.get('SeriesNumber', '?')} ({dataset.get('Modality', '?')})"
    held = {(series, cleaned.held_descriptors[key]) for key in DESCRIPTORS_SHOWN if key in cleaned.held_descriptors}
    rendered = None
    if render_now:
        result, reason = _render_dataset(dataset, invert=str(dataset.get("Modality", "")) == "NM")
        rendered = (_header(dataset), result, reason)
    return source.name, stored, "", held, cleaned.actions, rendered


DESCRIPTORS_SHOWN = ("SeriesDescription", "StudyDescription", "ProtocolName")
PROGRESS_EVERY = 5  # files between progress writes: the bar moves smoothly without a query per slice


def _note_descriptions(report: StageReport, held: set[tuple[str, str]]) -> None:
    for item in sorted(held):
        if item not in report.withheld_descriptions:
            report.withheld_descriptions.append(item)


def _stored_folder(job: IngestJob) -> str:
    """Where the job's de-identified objects are stored: each stays as its images' DICOM if it renders."""
    return f"dicom/{job.token}"


def bounded_map(function: Callable, items: Iterable, *, workers: int) -> Iterator:
    """Map in worker processes, results in order, with few items in flight so memory stays flat."""
    if workers <= 1:
        yield from map(function, items)
        return
    window = workers * 3
    context = multiprocessing.get_context("fork")
    # Frozen objects are never scanned by the workers' garbage collector, which would otherwise touch (and so
    # copy) every page inherited from this process: measured 40 % of the workers' CPU time on a CT series.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = deque()
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
    finally:
        gc.unfreeze()


def ingest_run(
    *,
    job: IngestJob,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    prerendered: dict[str, tuple] | None = None,
) -> IngestJob:
    """Group the stored objects into stages of the case and render their frames (unless ``ingest_stage`` did)."""
    job.status = IngestJob.Status.RUNNING
    job.save(update_fields=["status"])
    folder = _stored_folder(job)
    stored = sorted(f"{folder}/{name}" for name in default_storage.listdir(folder)[1]) if job.total else []
    used: set[str] = set()
    try:
        headers = []
        for name in stored:
            if prerendered is not None:
                dataset = prerendered[name][0]
            else:
                with default_storage.open(name) as handle:
                    dataset = pydicom.dcmread(handle, stop_before_pixels=True)
            dataset.stored_name = name
            headers.append(dataset)
        groups = group.group_series(headers)
        series_reports = []
        for series_group in groups:
            series_reports.append(_ingest_group(job, series_group, progress, workers, used, prerendered))
        job.report = {**job.report, "series": series_reports}
        job.status = IngestJob.Status.DONE
    except Exception as error:
        # The traceback's frames, not the exception's text: pydicom's may quote a header value.
        withheld = RuntimeError(f"{type(error).__name__} (message withheld: it may quote values from a file)")
        logger.error("DICOM import %s failed", job.token, exc_info=(RuntimeError, withheld, error.__traceback__))
        job.report = {**job.report, "error": f"The import stopped ({type(error).__name__}); the log has the details."}
        job.status = IngestJob.Status.FAILED
    finally:
        for name in set(stored) - used:
            default_storage.delete(name)
            rendered = (prerendered or {}).get(name, (None, None))[1]
            if rendered is not None:  # rendered while staging, then skipped (already imported) or rolled back
                _delete_files(_frame_files(rendered))
    job.finished = timezone.now()
    job.save(update_fields=["status", "report", "finished", "processed"])
    return job


def ingest_sweep(*, older_than, now) -> list[IngestJob]:
    """Fail imports left queued or running (a killed worker) and delete their objects that are in no image."""
    stale = IngestJob.objects.filter(
        status__in=[IngestJob.Status.QUEUED, IngestJob.Status.RUNNING], created__lt=now - older_than
    )
    swept = []
    for job in stale:
        folder = _stored_folder(job)
        stored = (
            {f"{folder}/{name}" for name in default_storage.listdir(folder)[1]}
            if default_storage.exists(folder)
            else set()
        )
        used = set(Image.objects.filter(dicom_file__in=stored).values_list("dicom_file", flat=True))
        _delete_files(stored - used)
        job.status = IngestJob.Status.FAILED
        job.finished = now
        job.report = {**job.report, "error": "The import stopped before it finished; import the files again."}
        job.save(update_fields=["status", "finished", "report"])
        logger.warning("DICOM import %s was stale and has been closed", job.token)
        swept.append(job)
    return swept


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
        # Not through save(): day 0 is bookkeeping of the imports, not an edit of the case for its history.
        Case.objects.filter(pk=case.pk).update(study_day_zero=study_date)
        case.study_day_zero = zero = study_date
    return (study_date - zero).days


def _ingest_group(job, series_group, progress, workers: int, used: set[str], prerendered=None) -> dict:
    """Create (or extend) one stage from a series group; all or nothing for that stage.

    Frames are rendered and stored first, outside any transaction; the stage and its image rows are then
    written in one short one, so the write lock is never held while pixels are decoded.
    """
    written: list[str] = []
    objects: list[tuple[str, RenderedObject]] = []
    refused = 0
    try:
        existing = Series.objects.filter(case=job.case, series_uid=series_group.series_uid).first()
        known = set(existing.images.values_list("instance_uid", flat=True)) if existing else set()
        fresh = [header for header in series_group.instances if str(header.get("SOPInstanceUID", "")) not in known]
        job.processed += len(series_group.instances) - len(fresh)
        if prerendered is not None:
            results = ((header.stored_name, *prerendered[header.stored_name][1:]) for header in fresh)
        else:
            modality = existing.modality if existing else DICOM_MODALITIES.get(series_group.modality, Modality.OTHER)
            invert = modality == Modality.NM  # nuclear medicine reads black on white
            results = bounded_map(_render, ((header.stored_name, invert) for header in fresh), workers=workers)
        for name, rendered, reason in results:
            job.processed += 1
            if rendered is None:
                refused += 1
                logger.warning("DICOM import %s could not render an object: %s", job.token, reason)
            else:
                objects.append((name, rendered))
                written += _frame_files(rendered)
            if job.processed % PROGRESS_EVERY == 0 or job.processed == job.total:
                IngestJob.objects.filter(pk=job.pk).update(processed=job.processed)
            if progress:
                progress(job.processed, job.total)
        series, images, added = _save_stage(job, series_group, objects)
        used.update(added)
    except Exception:
        _delete_files(written)
        used.difference_update(header.stored_name for header in series_group.instances)
        raise
    try:
        _thumbnail_key_images(series)
    except (OSError, PIL.UnidentifiedImageError) as error:
        # The stage is saved and complete; pages show the key image's web image until a thumbnail exists.
        reason = type(error).__name__
        logger.warning("DICOM import %s made no thumbnail for stage %s (%s)", job.token, series.pk, reason)
    return {
        "label": series.label,
        "files": len(added),
        "images": images,
        "refused": refused,
        "duplicates": len(series_group.instances) - refused - len(added),
        "series": series.pk,
    }


@transaction.atomic
def _save_stage(job, series_group, objects: list[tuple[str, "RenderedObject"]]):
    """Write the stage and the rows of its rendered objects; return (stage, images added, objects used)."""
    # One import at a time per case: two jobs must not both create the same stage or the same orders.
    case = Case.objects.select_for_update().get(pk=job.case_id)
    series = _series_for(case, series_group)
    next_order = (series.images.aggregate(highest=Max("order"))["highest"] or 0) + 1
    # Checked again under the lock: another import of the same objects may have finished meanwhile.
    known = set(series.images.values_list("instance_uid", flat=True))
    new_images, added, raced = [], [], []
    for name, rendered in objects:
        if rendered.instance_uid in known:
            raced += _frame_files(rendered)
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
    transaction.on_commit(lambda: _delete_files(raced))
    return series, len(new_images), added


def _mark_key_image(series: Series) -> None:
    """Make the middle image the stage's key image unless the author has chosen one."""
    if series.images.filter(is_key=True).exists():
        return
    orders = list(series.images.order_by("order", "pk").values_list("pk", flat=True))
    if orders:
        Image.objects.filter(pk=orders[len(orders) // 2]).update(is_key=True)


def _thumbnail_key_images(series: Series) -> list[str]:
    """Give the stage's key images that have none a thumbnail made from their web image; return the names."""
    written = []
    for image in series.images.filter(is_key=True, thumbnail=""):
        with image.file.open("rb") as handle:
            picture = PIL.Image.open(io.BytesIO(handle.read()))
            picture.load()
        image.thumbnail.name = default_storage.save(
            image_upload_to(None, "image.jpg"), ContentFile(render.thumbnail_of(picture))
        )
        image.save(update_fields=["thumbnail"])
        written.append(image.thumbnail.name)
    return written


@dataclass(frozen=True)
class StoredFrame:
    """One rendered frame, already written to storage."""

    file: str
    thumbnail: str  # empty for a stack's slices
    width: int
    height: int
    window: render.Window | None
    pixel_spacing_mm: float | None
    slice_position_mm: float | None  # each frame's own: the slices of a split mosaic or an enhanced object


@dataclass(frozen=True)
class RenderedObject:
    frames: list[StoredFrame]
    held: bool
    instance_uid: str


def _header(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """Return the data elements the grouping needs, without the pixels or the buffer they were read from."""
    header = pydicom.Dataset()
    for tag in dataset.keys():  # noqa: SIM118 - iterating a Dataset itself parses every element
        if tag != PIXEL_DATA:
            header[tag] = dataset.get_item(tag)  # as read: parsed only if grouping asks for it
    return header


PIXEL_DATA = 0x7FE00010


def _render(task: tuple[str, bool]):
    """Render and store every frame of one stored object (runs in a worker): (name, RenderedObject or None, reason)."""
    name, invert = task
    with default_storage.open(name) as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    return (name, *_render_dataset(dataset, invert=invert))


def _render_dataset(dataset: pydicom.Dataset, *, invert: bool) -> tuple[RenderedObject | None, str]:
    """Render and store every frame of a de-identified dataset: (RenderedObject or None, reason)."""
    frames: list[StoredFrame] = []
    # A CT, MR or PET slice is one of hundreds in its stack: only the stage's key image needs a thumbnail,
    # made once the stack is grouped (_thumbnail_key_image).
    thumbnails = str(dataset.get("Modality", "")).upper() not in render.CROSS_SECTIONAL
    try:
        for index, frame in enumerate(render.render_dataset(dataset, invert=invert, thumbnails=thumbnails)):
            web = default_storage.save(image_upload_to(None, f"image{frame.web_suffix}"), ContentFile(frame.web))
            thumbnail = ""
            if frame.thumbnail is not None:
                thumbnail = default_storage.save(image_upload_to(None, "image.jpg"), ContentFile(frame.thumbnail))
            position = group.slice_position(dataset, frame_index=index)
            frames.append(
                StoredFrame(web, thumbnail, frame.width, frame.height, frame.window, frame.pixel_spacing_mm, position)
            )
    except Exception as error:  # noqa: BLE001 - RenderError has the author's reason; anything else is damage
        _delete_files(stored for frame in frames for stored in (frame.file, frame.thumbnail))
        if isinstance(error, render.RenderError):
            return None, str(error)
        logger.warning("Unexpected %s while rendering a DICOM object", type(error).__name__)
        return None, "could not be rendered"
    if not frames:
        return None, "no frames to show"
    rendered = RenderedObject(
        frames=frames,
        held=deid.burned_in_risk(dataset),
        instance_uid=str(dataset.get("SOPInstanceUID", "")),
    )
    return rendered, ""


def _frame_files(rendered: RenderedObject) -> list[str]:
    return [name for frame in rendered.frames for name in (frame.file, frame.thumbnail)]


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


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
        window_center=frame.window.center if frame.window else None,
        window_width=frame.window.width if frame.window else None,
        pixel_spacing_mm=frame.pixel_spacing_mm,
        held_for_review=rendered.held,
    )
