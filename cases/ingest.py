"""DICOM ingest: feed uploads to the imaging package and save what it returns.

Two steps. ``ingest_stage`` runs in the request (or the command): each file is
read and de-identified in memory, and only the de-identified object is written,
under ``dicom/<job>/``; the original bytes and file names are never stored.
``ingest_run`` (the background task, or the command) groups those objects into
series, renders every frame and saves stages and images, updating the job's
progress as it goes; objects that end up in no image are deleted whatever
happens. Both steps can spread the per-file work over worker processes.

Every candidate file ends with one outcome (``OUTCOMES``) and a reason; the job
keeps them by the file's position in the upload, never by its name.
"""

import datetime
import gc
import io
import logging
import multiprocessing
import pickle
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import PIL.Image
import pydicom
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from .imaging import burned_in, group, mosaic, read, render
from .imaging import deidentify as deid
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


IMPORTED = "imported"
ALREADY_IMPORTED = "already imported"  # the case has the object from an earlier import
DUPLICATE = "duplicate"  # the same object came earlier in this upload
REFUSED = "refused"  # could not be read or de-identified
NOT_RENDERED = "not rendered"  # de-identified, but no image could be made of it
OUTCOMES = (IMPORTED, ALREADY_IMPORTED, DUPLICATE, REFUSED, NOT_RENDERED)
ALREADY_IN_CASE = "the case has this object already"
STOPPED = "the import stopped before this file was saved"


@dataclass(frozen=True)
class FileOutcome:
    """What became of one candidate file; ``index`` is its 1-based place in the upload, ``name`` is never stored."""

    index: int
    name: str
    outcome: str
    reason: str


@dataclass
class StageReport:
    """What the in-request step did: files staged, each refused file with its reason, and every file's name."""

    staged: int = 0
    refused: list[FileOutcome] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)
    # index → name of every candidate: shown by the command and the upload's answer, never stored.
    names: dict[int, str] = field(default_factory=dict)

    @property
    def rejected(self) -> list[FileOutcome]:
        """The refused files, in upload order."""
        return sorted(self.refused, key=lambda outcome: outcome.index)

    @property
    def action_summary(self) -> str:
        """Say what de-identification did, e.g. "X 4210, shift 630, U 300"."""
        return ", ".join(f"{action} {count}" for action, count in self.actions.most_common())

    # (series, text) of free-text descriptors: shown to the author once, never stored (they may carry PHI).
    withheld_descriptions: list[tuple[str, str]] = field(default_factory=list)
    # stored name → (header without pixels, rendered object or None, reason), when rendered while staging.
    prerendered: dict[str, tuple] = field(default_factory=dict)


def file_outcomes(*, job: IngestJob, names: dict[int, str]) -> list[FileOutcome]:
    """Return every file's outcome from the job's report, named from the upload's own list (names are not kept).

    A duplicate's reason names the file it repeats: "the same object as file 3 (IM0003)".
    """

    def named(match: re.Match) -> str:
        index = int(match[1])
        return f"file {index} ({names[index]})" if index in names else match[0]

    return [
        FileOutcome(index, names.get(index, f"file {index}"), outcome, _FILE_REFERENCE.sub(named, reason))
        for index, outcome, reason in job.report.get("files", [])
    ]


_FILE_REFERENCE = re.compile(r"\bfile (\d+)$")


def imported_all(job: IngestJob) -> bool:
    """Return whether the job is done and every one of its files (at least one) is in the case."""
    counts = job.report.get("counts", {})
    total = sum(counts.values())
    return job.status == IngestJob.Status.DONE and total > 0 and counts[IMPORTED] + counts[ALREADY_IMPORTED] == total


def _report_files(job: IngestJob, outcomes: dict[int, tuple[str, str]]) -> None:
    """Put the files' outcomes (index, outcome, reason — no names) and their counts into the job's report."""
    files = [[index, *outcomes[index]] for index in sorted(outcomes)]
    counts = Counter(outcome for _, outcome, _ in files)
    job.report = {**job.report, "files": files, "counts": {outcome: counts[outcome] for outcome in OUTCOMES}}


def case_keys(case: Case) -> deid.CaseKeys:
    return deid.CaseKeys(uid_secret=bytes(case.deid_secret), date_offset_days=case.date_offset_days)


def ingest_limits() -> read.Limits:
    return read.Limits(max_pixels_per_frame=settings.TEACHINGFILE_MAX_IMAGE_PIXELS)


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
    folder = _stored_folder(job)

    def candidates():
        for index, source in enumerate(sources, start=1):
            report.names[index] = source.name
            if isinstance(source, read.Rejected):
                report.refused.append(FileOutcome(index, source.name, REFUSED, source.reason))
            else:
                yield (index, source, keys, limits, folder, render_now)

    staged = set()
    cleaned = bounded_map(_clean, candidates(), workers=workers, failed=_clean_failed, discard=_discard_cleaned)
    for index, stored, reason, held, actions, rendered in cleaned:
        if stored is None:
            report.refused.append(FileOutcome(index, report.names[index], REFUSED, reason))
            continue
        if rendered is not None:
            report.prerendered[stored] = rendered
        staged.add(stored)
        report.actions.update(actions)
        _note_descriptions(report, held)
    # A worker that died mid-file may have stored its object before dying: only what was staged is rendered.
    if default_storage.exists(folder):
        _delete_files({f"{folder}/{name}" for name in default_storage.listdir(folder)[1]} - staged)
    for refused in report.rejected:
        # The reason only: file names may carry PHI.
        logger.warning("DICOM import %s refused a file: %s", job.token, refused.reason)
    report.staged = job.total = len(staged)
    _report_files(job, {outcome.index: (REFUSED, outcome.reason) for outcome in report.refused})
    job.save(update_fields=["total", "report"])
    return report


def _clean(task: tuple[int, read.Source | read.FileSource, deid.CaseKeys, read.Limits, str, bool]):
    """Read, de-identify, store (and maybe render) one source in a worker.

    Returns (index, stored name or None, reason, held descriptors, actions, rendered or None); the stored name
    begins with the index, so the task that renders it later knows which file of the upload it came from.
    """
    index, source, keys, limits, folder, render_now = task
    try:
        dataset = read.read_dataset(source, limits=limits)
        mosaic.split_mosaic(dataset)  # before de-identification removes the private header that describes it
        cleaned = deid.deidentify(dataset, keys=keys)
    except (read.UnreadableFile, deid.DeidentificationError) as error:
        return index, None, str(error), {}, Counter(), None
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
        logger.warning("Unexpected %s while reading a DICOM file", type(error).__name__)
        return index, None, "damaged DICOM file", {}, Counter(), None
    buffer = io.BytesIO()
    try:
        cleaned.dataset.save_as(buffer, enforce_file_format=True)
        header = _header(dataset) if render_now else None
    except Exception as error:  # noqa: BLE001
        logger.warning("Unexpected %s while writing a de-identified file", type(error).__name__)
        return index, None, "damaged DICOM file", {}, Counter(), None
    stored = default_storage.save(f"{folder}/{index:06d}-{uuid.uuid4().hex}.dcm", ContentFile(buffer.getvalue()))
    series = f"series {dataset.get('SeriesNumber', '?')} ({dataset.get('Modality', '?')})"
    held = {(series, cleaned.held_descriptors[key]) for key in DESCRIPTORS_SHOWN if key in cleaned.held_descriptors}
    rendered = None
    if render_now:
        result, reason = _render_dataset(dataset, invert=str(dataset.get("Modality", "")) == "NM")
        rendered = (header, result, reason)
    return index, stored, "", held, cleaned.actions, rendered


def _clean_failed(task: tuple, problem: str) -> tuple:
    """The result of a file whose worker raised, returned something unsendable, or died."""
    reason = "the file crashed the process reading it" if problem == CRASHED else "damaged DICOM file"
    return task[0], None, reason, {}, Counter(), None


def _discard_cleaned(result: tuple) -> None:
    """Delete what ``_clean`` stored when its result cannot be sent back."""
    _delete_files([result[1] or ""])
    if result[5] is not None and result[5][1] is not None:
        _delete_files(_frame_files(result[5][1]))


def _index_of(stored: str) -> int:
    """Return the upload position a stored object's name begins with (see ``_clean``)."""
    return int(PurePosixPath(stored).name.split("-", 1)[0])


DESCRIPTORS_SHOWN = ("SeriesDescription", "StudyDescription", "ProtocolName")
PROGRESS_SECONDS = 0.5  # between progress writes: the bar moves twice a second without a query per slice


def _note_descriptions(report: StageReport, held: set[tuple[str, str]]) -> None:
    for item in sorted(held):
        if item not in report.withheld_descriptions:
            report.withheld_descriptions.append(item)


def _stored_folder(job: IngestJob) -> str:
    """Where the job's de-identified objects are stored: each stays as its images' DICOM if it renders."""
    return f"dicom/{job.token}"


CRASHED = "crashed"  # the worker process died
RAISED = "raised"  # the function raised, or its result could not be sent back


def bounded_map(
    function: Callable,
    items: Iterable,
    *,
    workers: int,
    failed: Callable[[Any, str], Any],
    discard: Callable[[Any], None],
) -> Iterator:
    """Map in worker processes, results in order, with few items in flight so memory stays flat.

    One item never costs the others: when ``function`` raises, when its result cannot be pickled back (then
    ``discard(result)`` runs in the worker, to delete what it stored), or when its worker process dies, the
    item's result is ``failed(item, RAISED or CRASHED)`` instead. After a worker died, the files that were in
    flight run again one at a time, so only the one that kills its worker is lost.
    """
    if workers <= 1:
        for item in items:
            yield _settle(item, _call(function, item), failed, pickled=False)
        return
    window = workers * 3
    # Frozen objects are never scanned by the workers' garbage collector, which would otherwise touch (and so
    # copy) every page inherited from this process: measured 40 % of the workers' CPU time on a CT series.
    gc.freeze()
    pool = _pool(workers)
    pending: deque[tuple[Any, Future]] = deque()
    try:
        items = iter(items)
        while True:
            item = next(items, _END)
            if item is not _END:
                pending.append((item, pool.submit(_call_in_worker, function, discard, item)))
            while pending and (len(pending) >= window or item is _END):
                first, future = pending.popleft()
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    pool.shutdown(wait=True)
                    for again, done in [(first, future), *pending]:
                        yield _settle(again, _result_or_alone(done, function, discard, again), failed)
                    pending.clear()
                    pool = _pool(workers)
                    continue
                except Exception as error:  # noqa: BLE001 - e.g. the item itself could not be pickled
                    outcome = _Failure(RAISED, type(error).__name__)
                yield _settle(first, outcome, failed)
            if item is _END:
                return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


_END = object()


@dataclass(frozen=True)
class _Failure:
    problem: str  # RAISED or CRASHED
    error: str  # the exception's type, for the log


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


def _call(function: Callable, item: Any) -> Any:
    """Return ``function(item)``, or a _Failure when it raises."""
    try:
        return function(item)
    except Exception as error:  # noqa: BLE001 - the caller turns it into the item's outcome
        return _Failure(RAISED, type(error).__name__)


def _call_in_worker(function: Callable, discard: Callable, item: Any) -> bytes | _Failure:
    """Run in a worker: the pickled result, or a _Failure when the function raises or its result won't pickle."""
    result = _call(function, item)
    if isinstance(result, _Failure):
        return result
    try:
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001 - pickle raises many types for one problem
        discard(result)
        return _Failure(RAISED, type(error).__name__)


def _result_or_alone(future: Future, function: Callable, discard: Callable, item: Any) -> bytes | _Failure:
    """After the pool broke: the item's result if it had one, else the item run again alone in a fresh worker."""
    if future.done() and not isinstance(future.exception(), BrokenProcessPool):
        error = future.exception()
        return future.result() if error is None else _Failure(RAISED, type(error).__name__)
    with _pool(1) as alone:
        try:
            return alone.submit(_call_in_worker, function, discard, item).result()
        except BrokenProcessPool:
            return _Failure(CRASHED, "BrokenProcessPool")


def _settle(item: Any, outcome: Any, failed: Callable[[Any, str], Any], *, pickled: bool = True) -> Any:
    """Return a worker's result (unpickled), or what ``failed`` makes of a failure (logged by its type only)."""
    if isinstance(outcome, _Failure):
        logger.warning("A DICOM import worker %s on one file (%s)", outcome.problem, outcome.error)
        return failed(item, outcome.problem)
    return pickle.loads(outcome) if pickled else outcome  # noqa: S301 - bytes our own worker pickled


def ingest_run(
    *,
    job: IngestJob,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    prerendered: dict[str, tuple] | None = None,
) -> IngestJob:
    """Group the stored objects into stages of the case and render their frames (unless ``ingest_stage`` did).

    Call it outside any transaction: each stage is saved in a short transaction of its own, and the progress
    written meanwhile must be seen by the page that polls it.
    """
    job.status = IngestJob.Status.RUNNING
    job.save(update_fields=["status"])
    folder = _stored_folder(job)
    stored = sorted(f"{folder}/{name}" for name in default_storage.listdir(folder)[1]) if job.total else []
    outcomes: dict[int, tuple[str, str]] = {
        index: (outcome, reason) for index, outcome, reason in job.report.get("files", [])
    }
    tracker = _Progress(job, progress)
    used: set[str] = set()
    series_reports = []
    try:
        headers = []
        for name in stored:
            header = _stored_header(name, prerendered)
            if header is None:
                outcomes[_index_of(name)] = (NOT_RENDERED, "its de-identified copy could not be read back")
                tracker.advance()
                continue
            header.stored_name = name
            headers.append(header)
        for series_group in group.group_series(_first_copies(headers, outcomes, tracker)):
            series_report = _ingest_group(job, series_group, tracker, workers, used, outcomes, prerendered)
            if series_report is not None:
                series_reports.append(series_report)
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
    for name in stored:
        outcomes.setdefault(_index_of(name), (NOT_RENDERED, STOPPED))
    job.report = {**job.report, "series": series_reports}
    _report_files(job, outcomes)
    job.finished = timezone.now()
    job.save(update_fields=["status", "report", "finished", "processed"])
    return job


class _Progress:
    """Counts the job's processed objects; writes the count at most every PROGRESS_SECONDS, and at the end.

    Written by an UPDATE of its own, in autocommit, so the page polling the job from another connection sees
    it move while the stages are rendered.
    """

    def __init__(self, job: IngestJob, callback: Callable[[int, int], None] | None):
        self.job, self.callback = job, callback
        self.written = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.job.processed += count
        now = time.monotonic()
        if now - self.written >= PROGRESS_SECONDS or self.job.processed >= self.job.total:
            IngestJob.objects.filter(pk=self.job.pk).update(processed=self.job.processed)
            self.written = now
        if self.callback:
            self.callback(self.job.processed, self.job.total)


def _stored_header(name: str, prerendered: dict[str, tuple] | None) -> pydicom.Dataset | None:
    """Return the header of a stored object (sent back by the worker that rendered it, or read), or None."""
    if prerendered is not None:
        return prerendered[name][0]
    try:
        with default_storage.open(name) as handle:
            return pydicom.dcmread(handle, stop_before_pixels=True)
    except Exception as error:  # noqa: BLE001 - storage and parser fail in many ways; the object is dropped
        logger.warning("Unexpected %s while reading a stored DICOM object", type(error).__name__)
        return None


def _first_copies(headers: list[pydicom.Dataset], outcomes: dict, tracker: "_Progress") -> list[pydicom.Dataset]:
    """Return the headers whose object (de-identified SOP Instance UID) came first in the upload.

    The later copies — the same file twice, or a file and its copy inside a zip — are "duplicate"; their stored
    copies are in no image and so are deleted with the rest.
    """
    first: dict[str, int] = {}
    kept = []
    for header in sorted(headers, key=lambda header: _index_of(header.stored_name)):
        index, uid = _index_of(header.stored_name), str(header.get("SOPInstanceUID", ""))
        if uid in first:
            outcomes[index] = (DUPLICATE, f"the same object as file {first[uid]}")
            tracker.advance()
        else:
            first[uid] = index
            kept.append(header)
    return kept


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


def _ingest_group(job, series_group, tracker, workers: int, used: set[str], outcomes: dict, prerendered=None):
    """Create (or extend) one stage from a series group; all or nothing for that stage; return its report or None.

    Frames are rendered and stored first, outside any transaction; the stage and its image rows are then
    written in one short one, so the write lock is never held while pixels are decoded. A group none of whose
    objects could be rendered (or all of which the case has) makes no stage.
    """
    written: list[str] = []
    objects: list[tuple[str, RenderedObject]] = []
    try:
        existing = Series.objects.filter(case=job.case, series_uid=series_group.series_uid).first()
        known = set(existing.images.values_list("instance_uid", flat=True)) if existing else set()
        fresh = []
        for header in series_group.instances:
            if str(header.get("SOPInstanceUID", "")) in known:
                outcomes[_index_of(header.stored_name)] = (ALREADY_IMPORTED, ALREADY_IN_CASE)
                tracker.advance()
            else:
                fresh.append(header)
        if prerendered is not None:
            results = ((header.stored_name, *prerendered[header.stored_name][1:]) for header in fresh)
        else:
            modality = existing.modality if existing else DICOM_MODALITIES.get(series_group.modality, Modality.OTHER)
            invert = modality == Modality.NM  # nuclear medicine reads black on white
            tasks = ((header.stored_name, invert) for header in fresh)
            results = bounded_map(_render, tasks, workers=workers, failed=_render_failed, discard=_discard_rendered)
        for name, rendered, reason in results:
            if rendered is None:
                outcomes[_index_of(name)] = (NOT_RENDERED, reason)
                logger.warning("DICOM import %s could not render an object: %s", job.token, reason)
            else:
                objects.append((name, rendered))
                written += _frame_files(rendered)
            tracker.advance()
        if not objects:
            return None
        series, images, added = _save_stage(job, series_group, objects)
        used.update(added)
    except Exception:
        _delete_files(written)
        used.difference_update(header.stored_name for header in series_group.instances)
        raise
    for name, _ in objects:
        # Not added: another import saved the same object while this one rendered it.
        outcomes[_index_of(name)] = (IMPORTED, "") if name in added else (ALREADY_IMPORTED, ALREADY_IN_CASE)
    if not added:
        return None
    try:
        _thumbnail_key_images(series)
    except (OSError, PIL.UnidentifiedImageError) as error:
        # The stage is saved and complete; pages show the key image's web image until a thumbnail exists.
        reason = type(error).__name__
        logger.warning("DICOM import %s made no thumbnail for stage %s (%s)", job.token, series.pk, reason)
    return {"label": series.label, "files": len(added), "images": images, "series": series.pk}


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
    text_regions: list  # boxes [x, y, width, height] of text found in the first frame, in web-image pixels
    instance_uid: str


def _header(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """Return the data elements the grouping needs, without the pixels, lookup tables or the buffer read from.

    The header is pickled back from the worker. Lookup tables are left out: grouping never reads them, a palette
    can weigh 384 kB, and pydicom keeps a parsed lookup-table descriptor (a palette's read as Implicit VR, once
    rendered) with a local converter function that pickle refuses, which crashed imports with workers.
    """
    header = pydicom.Dataset()
    for tag in dataset.keys():  # noqa: SIM118 - iterating a Dataset itself parses every element
        if tag != PIXEL_DATA and not _lookup_table(tag):
            header[tag] = dataset.get_item(tag)  # as read: parsed only if grouping asks for it
    return header


def _lookup_table(tag: int) -> bool:
    """Return whether the tag is a palette (0028,11xx-12xx) or a modality or VOI LUT (0028,3xxx), PS3.3 C.7.9, C.11."""
    element = tag & 0xFFFF
    return tag >> 16 == 0x0028 and (0x1100 <= element <= 0x12FF or 0x3000 <= element <= 0x3FFF)


PIXEL_DATA = 0x7FE00010


def _render(task: tuple[str, bool]):
    """Render and store every frame of one stored object (runs in a worker): (name, RenderedObject or None, reason)."""
    name, invert = task
    with default_storage.open(name) as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    return (name, *_render_dataset(dataset, invert=invert))


def _render_failed(task: tuple[str, bool], problem: str) -> tuple:
    """The result of an object whose worker raised, returned something unsendable, or died."""
    return (
        task[0],
        None,
        "the image crashed the process rendering it" if problem == CRASHED else "could not be rendered",
    )


def _discard_rendered(result: tuple) -> None:
    """Delete the frames ``_render`` stored when its result cannot be sent back."""
    if result[1] is not None:
        _delete_files(_frame_files(result[1]))


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
    held, regions = _burned_in_check(dataset, frames)
    rendered = RenderedObject(
        frames=frames,
        held=held,
        text_regions=regions,
        instance_uid=str(dataset.get("SOPInstanceUID", "")),
    )
    return rendered, ""


def _burned_in_check(dataset: pydicom.Dataset, frames: list[StoredFrame]) -> tuple[bool, list[list[int]]]:
    """Return whether the object is held for burned-in text and the boxes of text found in its first frame.

    Held by its header (``burned_in.burned_in_risk``, with the site's modalities) or, for a radiograph, by
    text in its pixels; a multi-frame radiograph is held unread. Held objects are read too, for pre-drawn masks.
    """
    held = burned_in.burned_in_risk(dataset, extra_modalities=settings.TEACHINGFILE_BURNED_IN_MODALITIES)
    if not held and not burned_in.needs_text_check(dataset):
        return False, []
    if not held and len(frames) > 1:
        return True, []
    with default_storage.open(frames[0].file) as handle:
        picture = PIL.Image.open(io.BytesIO(handle.read()))
        picture.load()
    found = burned_in.find_text(picture)
    return held or found.held, [list(region) for region in found.regions]


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
        text_regions=rendered.text_regions,
    )
