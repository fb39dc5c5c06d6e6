"""An import's two steps in order: de-identify the spooled upload (``clean``), then render and save stages
(``stages``), under a lease; a failed run closes its job with every file accounted for."""

import logging
from collections.abc import Callable

import pydicom
from django.core.files.storage import default_storage
from django.utils import timezone

from imaging import group

from .clean import ingest_stage, prerendered_files
from .lease import LIVE, Heartbeat, LeaseLost, Progress, claim, close_job, ingest_heartbeat
from .models import IngestJob
from .outcomes import DUPLICATE, NOT_RENDERED, STOPPED, index_of, note, report_files
from .spool import spool_delete, spooled_sources
from .stages import ingest_group
from .storage import delete_orphans, delete_unused, listed, stored_folder

logger = logging.getLogger(__name__)


def ingest_spooled(*, job: IngestJob, workers: int = 1) -> IngestJob:
    """The import task: de-identify and render the spooled upload (unless done before a retry), delete it, save.

    A retry that finds the objects de-identified already reads them back to render them.
    """
    if job.status not in LIVE:
        return job  # closed by the lease check or the sweep meanwhile
    with ingest_heartbeat(job=job) as lease:
        if lease.lost.is_set():
            return _lost(job, None)  # another run or the lease check got there first
        if job.phase == IngestJob.Phase.DEIDENTIFY:
            delete_orphans(job, keep_stored=False)  # a retry starts this phase afresh
            job.report = {"candidates": job.report.get("candidates", 0)}
            try:
                # Rendered while each object is in memory, as the command does: nothing stored is read back.
                report = ingest_stage(
                    job=job, sources=spooled_sources(job), workers=workers, render_now=True, lease=lease
                )
            except LeaseLost:
                return _lost(job, None)
            except Exception as error:
                ingest_abandon(job=job, error=error)
                return job
            prerendered = report.prerendered
        else:
            prerendered = None  # a retry of the render phase: the stored objects are read back
        spool_delete(job)  # de-identified now or before a retry: the raw upload waits no longer
        return ingest_run(job=job, workers=workers, prerendered=prerendered, lease=lease)


def ingest_abandon(*, job: IngestJob, error: Exception) -> None:
    """Close a job whose de-identification raised: failed, a report of every file, nothing of it left."""
    if isinstance(error, LeaseLost):
        return  # the lease check has taken the job over
    _log_failure(job, error)
    try:
        close_job(
            job, now=timezone.now(), error=f"The import stopped ({type(error).__name__}); the log has the details."
        )
    except LeaseLost:
        return  # taken over meanwhile: the run that owns the job now reports and cleans


def _log_failure(job: IngestJob, error: Exception) -> None:
    """Log a failed import with the traceback's frames, not the exception's text: pydicom's may quote a value."""
    withheld = RuntimeError(f"{type(error).__name__} (message withheld: it may quote values from a file)")
    logger.error("DICOM import %s failed", job.token, exc_info=(RuntimeError, withheld, error.__traceback__))


def ingest_run(
    *,
    job: IngestJob,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    prerendered: dict[str, tuple] | None = None,
    lease: "Heartbeat | None" = None,
) -> IngestJob:
    """Group the stored objects into stages of the case and render their frames (unless ``ingest_stage`` did).

    Call it outside any transaction: each stage is saved in a short transaction of its own, and the progress
    written meanwhile must be seen by the page that polls it. Whatever happens, every file of the job that ends
    up in no image is deleted before the job is closed. A run that lost its claim (``claim``: the lease check
    took the job over) stops at its next write, writes nothing, deletes the files it made for no stage and
    returns the job as its new owner has it.
    """
    job.status = IngestJob.Status.RUNNING
    job.phase = IngestJob.Phase.RENDER
    try:
        claim(job, status=job.status, phase=job.phase)
    except LeaseLost:
        return _lost(job, prerendered)
    if lease is not None:
        progress = lease.checked(progress)
    stored = listed(stored_folder(job)) if job.total else []
    outcomes: dict[int, tuple[str, str]] = {
        index: (outcome, reason) for index, outcome, reason in job.report.get("files", [])
    }
    tracker = Progress(job, progress)
    series_reports = []
    try:
        headers = _headers_read_back(stored, prerendered, outcomes, tracker)
        for series_group in group.group_series(_first_copies(headers, outcomes, tracker)):
            series_report = ingest_group(
                job=job,
                series_group=series_group,
                tracker=tracker,
                workers=workers,
                outcomes=outcomes,
                prerendered=prerendered,
            )
            if series_report is not None:
                series_reports.append(series_report)
        job.status = IngestJob.Status.DONE
    except LeaseLost:
        # The run that took the job over owns its report; of the files, this run deletes those it wrote that
        # are in no stage (the frames of the stage it was making are deleted by ``ingest_group``).
        return _lost(job, prerendered)
    except Exception as error:
        _log_failure(job, error)
        job.report = {**job.report, "error": f"The import stopped ({type(error).__name__}); the log has the details."}
        job.status = IngestJob.Status.FAILED
    return _end(job, stored=stored, outcomes=outcomes, series_reports=series_reports, prerendered=prerendered)


def _headers_read_back(
    stored: list[str], prerendered: dict[str, tuple] | None, outcomes: dict[int, tuple[str, str]], tracker: Progress
) -> list[pydicom.Dataset]:
    """Return the headers of the stored objects, each knowing its stored name; note those that cannot be read."""
    headers = []
    for name in stored:
        header = _stored_header(name, prerendered)
        if header is None:
            note(outcomes, index_of(name), NOT_RENDERED, "its de-identified copy could not be read back")
            tracker.advance()
            continue
        header.stored_name = name
        headers.append(header)
    return headers


def _end(
    job: IngestJob,
    *,
    stored: list[str],
    outcomes: dict[int, tuple[str, str]],
    series_reports: list[dict],
    prerendered: dict[str, tuple] | None,
) -> IngestJob:
    """Write every file's outcome and end the job, then delete what it wrote that is in no image."""
    for name in stored:
        outcomes.setdefault(index_of(name), (NOT_RENDERED, STOPPED))
    job.report = {**job.report, "series": series_reports}
    report_files(job, outcomes)
    job.finished = timezone.now()
    final = {"status": job.status, "report": job.report, "finished": job.finished, "processed": job.processed}
    try:
        claim(job, **final, cleaned=False)  # ended first: no other run can take the job over and use its files
    except LeaseLost:
        return _lost(job, prerendered)
    delete_orphans(job, keep_stored=False)
    job.cleaned = True
    IngestJob.objects.filter(pk=job.pk, attempts=job.attempts).update(cleaned=True)
    return job


def _lost(job: IngestJob, prerendered: dict[str, tuple] | None) -> IngestJob:
    """Stop a run whose claim was taken over: delete the frames it made for no stage; the job as its owner has it."""
    delete_unused(job, prerendered_files(prerendered or {}))
    logger.warning("DICOM import %s: a run that lost its claim (paused past its lease) stopped", job.token)
    job.refresh_from_db()
    return job


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


def _first_copies(headers: list[pydicom.Dataset], outcomes: dict, tracker: "Progress") -> list[pydicom.Dataset]:
    """Return the headers whose object (de-identified SOP Instance UID) came first in the upload.

    The later copies — the same file twice, or a file and its copy inside a zip — are "duplicate"; their stored
    copies are in no image and so are deleted with the rest.
    """
    first: dict[str, int] = {}
    kept = []
    for header in sorted(headers, key=lambda header: index_of(header.stored_name)):
        index, uid = index_of(header.stored_name), str(header.get("SOPInstanceUID", ""))
        if uid in first:
            note(outcomes, index, DUPLICATE, f"the same object as file {first[uid]}")
            tracker.advance()
        else:
            first[uid] = index
            kept.append(header)
    return kept
