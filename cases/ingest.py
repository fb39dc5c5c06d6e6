"""DICOM ingest: feed uploads to the imaging package and save what it returns.

The web request only spools the upload (``ingest_upload``: a private folder outside the media, never
served) and lists its candidate files by name for the author's page; the task (``ingest_spooled``) or the
command then runs two steps. ``ingest_stage`` reads and de-identifies each file in memory and writes only
the de-identified object, under ``dicom/<job>/``; the original bytes and file names are never stored, and
the spooled upload is deleted once it is done. ``ingest_run`` groups those objects into series, renders
every frame under ``images/<job>/`` and saves stages and images, updating the job's progress as it goes.
Both steps can spread the per-file work over worker processes.

Everything a job writes is in its own folders, so whatever ends up in no image can be found and deleted:
by the job when it ends, by the lease check when its process died (``ingest_lease_check``: a running job
keeps a heartbeat), and by ``ingest_sweep``.

Every candidate file ends with one outcome (``OUTCOMES``) and a reason; the job
keeps them by the file's position in the upload, never by its name.
"""

import datetime
import gc
import io
import logging
import multiprocessing
import os
import pickle
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import PIL.Image
import pydicom
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.move import file_move_safe
from django.core.files.storage import default_storage
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from imaging import burned_in, group, mosaic, read, render
from imaging import deidentify as deid

from .models import STUDY_DAY_LIMIT, Case, Image, IngestJob, Modality, Phase, Plane, Series

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
STOPPED = "the import stopped before this file was done; import it again"


@dataclass(frozen=True)
class FileOutcome:
    """What became of one candidate file; ``index`` is its 1-based place in the upload, ``name`` is never stored."""

    index: int
    name: str
    outcome: str
    reason: str


@dataclass
class StageReport:
    """What de-identification did: each refused file with its reason, and every file's name."""

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


def file_counts(*, job: IngestJob) -> list[tuple[str, int]]:
    """Return (outcome, count) in the order of ``OUTCOMES`` (a JSON column need not keep its keys' order)."""
    counts = job.report.get("counts", {})
    return [(outcome, counts.get(outcome, 0)) for outcome in OUTCOMES] if counts else []


_FILE_REFERENCE = re.compile(r"\bfile (\d+)$")


def imported_all(job: IngestJob) -> bool:
    """Return whether the job is done and every one of its files (at least one) is in the case."""
    counts = job.report.get("counts", {})
    total = sum(counts.values())
    return job.status == IngestJob.Status.DONE and total > 0 and counts[IMPORTED] + counts[ALREADY_IMPORTED] == total


def _note(outcomes: dict[int, tuple[str, str]], index: int, outcome: str, reason: str) -> None:
    """Record a file's outcome; files that share an index (the members of a zip inside the upload's zip, which
    the request lists as one candidate) keep the one furthest from "imported", so the author sees what failed."""
    if index not in outcomes or _SEVERITY[outcome] > _SEVERITY[outcomes[index][0]]:
        outcomes[index] = (outcome, reason)


_SEVERITY = {IMPORTED: 0, ALREADY_IMPORTED: 1, DUPLICATE: 2, NOT_RENDERED: 3, REFUSED: 4}


def _report_files(job: IngestJob, outcomes: dict[int, tuple[str, str]]) -> None:
    """Put the files' outcomes (index, outcome, reason — no names) and their counts into the job's report."""
    files = [[index, *outcomes[index]] for index in sorted(outcomes)]
    counts = Counter(outcome for _, outcome, _ in files)
    job.report = {**job.report, "files": files, "counts": {outcome: counts[outcome] for outcome in OUTCOMES}}


def case_keys(case: Case) -> deid.CaseKeys:
    return deid.CaseKeys(uid_secret=bytes(case.deid_secret), date_offset_days=case.date_offset_days)


def ingest_limits() -> read.Limits:
    return read.Limits(
        max_file_bytes=settings.TEACHINGFILE_MAX_DICOM_FILE_BYTES,
        max_archive_members=settings.TEACHINGFILE_MAX_ARCHIVE_FILES,
        max_archive_bytes=settings.TEACHINGFILE_MAX_ARCHIVE_BYTES,
        max_pixels_per_frame=settings.TEACHINGFILE_MAX_DICOM_FRAME_PIXELS,
    )


def ingest_upload(*, case: Case, uploads: list, user) -> tuple[IngestJob, list[str]]:
    """Spool an author's uploaded files and queue their import; return the job and its candidates' names.

    Nothing is de-identified here: the request only moves the files into the spool and lists the candidates
    from each zip's central directory. The names are for the answer page alone (a candidate's 1-based place
    in the list is its index in the job's report); they are never stored.
    """
    from .tasks import ingest_job  # the task module imports this one

    job = IngestJob.objects.create(case=case, created_by=user)
    limits = ingest_limits()
    folder = _spool_folder(job)
    names: list[str] = []
    try:
        folder.mkdir(mode=0o700, parents=True)
        for number, upload in enumerate(uploads, start=1):
            path = folder / str(number)
            _spool(upload, path)
            with path.open("rb") as handle:
                names += read.candidate_names(upload.name, handle, size=path.stat().st_size, limits=limits)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job.total = len(names)
    job.report = {"candidates": len(names)}
    job.save(update_fields=["total", "report"])
    transaction.on_commit(lambda: ingest_job.enqueue(token=str(job.token)))
    return job, names


def _spool_folder(job: IngestJob) -> Path:
    root = Path(settings.TEACHINGFILE_UPLOAD_SPOOL)
    if not root.exists():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root / job.token.hex


def _spool(upload, path: Path) -> None:
    """Move (or write) one uploaded file into the spool, readable by its owner only; the name is not kept."""
    if hasattr(upload, "temporary_file_path"):  # Django spooled a large upload to a temporary file already
        file_move_safe(upload.temporary_file_path(), str(path))
        os.chmod(path, 0o600)
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as spooled:
        for chunk in upload.chunks():
            spooled.write(chunk)


def _spool_delete(job: IngestJob) -> None:
    shutil.rmtree(_spool_folder(job), ignore_errors=True)


def _spooled_sources(job: IngestJob) -> Iterator[tuple[int, read.Source | read.Rejected]]:
    """Yield the spooled upload's candidates with the index the request gave each (see ``ingest_upload``)."""
    limits = ingest_limits()
    folder = _spool_folder(job)
    offset = 0
    for path in sorted(folder.iterdir(), key=lambda spooled: int(spooled.name)):
        size = path.stat().st_size
        with path.open("rb") as handle:
            listed = read.candidate_names(path.name, handle, size=size, limits=limits)
        places = {name: offset + place for place, name in enumerate(listed, start=1)}
        # Listed from the path: a zip's members are then decompressed by the workers that parse them.
        for source in read.sources_from_paths([path], limits=limits):
            yield _place_of(places, source.name, default=offset + 1), source
        offset += len(listed)


def _place_of(places: dict[str, int], name: str, *, default: int) -> int:
    """Return a candidate's index; a file inside a nested zip shares the index of that zip."""
    while name not in places and "/" in name:
        name = name.rsplit("/", 1)[0]
    return places.get(name, default)


def ingest_spooled(*, job: IngestJob, workers: int = 1) -> IngestJob:
    """The import task: de-identify the spooled upload (unless done before a retry) and delete it, then render."""
    if job.status not in LIVE:
        return job  # closed by the lease check or the sweep meanwhile
    with ingest_heartbeat(job=job) as lease:
        if lease.lost.is_set():
            return _lost(job, None)  # another run or the lease check got there first
        if job.phase == IngestJob.Phase.DEIDENTIFY:
            _delete_orphans(job, keep_stored=False)  # a retry starts this phase afresh
            job.report = {"candidates": job.report.get("candidates", 0)}
            try:
                ingest_stage(job=job, sources=_spooled_sources(job), workers=workers, lease=lease)
            except LeaseLost:
                return _lost(job, None)
            except Exception as error:
                ingest_abandon(job=job, error=error)
                return job
        _spool_delete(job)  # de-identified now or before a retry: the raw upload waits no longer
        return ingest_run(job=job, workers=workers, lease=lease)


def ingest_abandon(*, job: IngestJob, error: Exception) -> None:
    """Close a job whose de-identification raised: failed, a report of every file, nothing of it left."""
    if isinstance(error, LeaseLost):
        return  # the lease check has taken the job over
    _log_failure(job, error)
    try:
        _close(job, now=timezone.now(), error=f"The import stopped ({type(error).__name__}); the log has the details.")
    except LeaseLost:
        return  # taken over meanwhile: the run that owns the job now reports and cleans


LIVE = (IngestJob.Status.QUEUED, IngestJob.Status.RUNNING)


def _log_failure(job: IngestJob, error: Exception) -> None:
    """Log a failed import with the traceback's frames, not the exception's text: pydicom's may quote a value."""
    withheld = RuntimeError(f"{type(error).__name__} (message withheld: it may quote values from a file)")
    logger.error("DICOM import %s failed", job.token, exc_info=(RuntimeError, withheld, error.__traceback__))


def ingest_stage(
    *,
    job: IngestJob,
    sources: Iterable[tuple[int, read.Source | read.FileSource | read.Rejected]],
    workers: int = 1,
    render_now: bool = False,
    lease: "Heartbeat | None" = None,
) -> StageReport:
    """Read and de-identify every source in memory; store the de-identified objects for the job.

    ``sources`` are (index, source) pairs, the index being the candidate's 1-based place in the upload's
    listing; each stored object is named by it, so a job's report can say what became of each candidate
    even when its process was killed. With ``render_now`` (the command, which renders straight after) each
    object is also rendered while it is in memory, sparing a second read; the task renders afterwards.
    """
    report = StageReport()
    keys = case_keys(job.case)
    limits = ingest_limits()
    folder = _stored_folder(job)
    job.processed = 0
    tracker = _Progress(job, lease.checked(None) if lease is not None else None)

    def candidates():
        for index, source in sources:
            report.names[index] = source.name
            if isinstance(source, read.Rejected):
                report.refused.append(FileOutcome(index, source.name, REFUSED, source.reason))
                tracker.advance()
            else:
                yield (index, source, keys, limits, folder, _images_folder(job), render_now)

    staged = set()
    cleaned = bounded_map(_clean, candidates(), workers=workers, failed=_clean_failed, discard=_discard_cleaned)
    try:
        with closing(cleaned):  # a stop mid-way discards what the workers still had in flight
            for index, stored, reason, held, actions, rendered in cleaned:
                if stored is not None:
                    staged.add(stored)
                if rendered is not None:
                    report.prerendered[stored] = rendered
                tracker.advance()
                if stored is None:
                    report.refused.append(FileOutcome(index, report.names[index], REFUSED, reason))
                    continue
                report.actions.update(actions)
                _note_descriptions(report, held)
        # A worker that died mid-file may have stored its object before dying: only what was staged is
        # rendered. Checked first: a run that lost its claim must not delete what the run after it stored.
        _claim(job)
        _delete_files(set(_listed(folder)) - staged)
        job.total = len(staged)
        job.phase = IngestJob.Phase.RENDER
        job.processed = 0
        _report_files(job, {outcome.index: (REFUSED, outcome.reason) for outcome in report.refused})
        _claim(job, phase=job.phase, total=job.total, processed=0, report=job.report)
    except Exception:
        # What this run stored is nobody's now: the caller closes the job, or another run owns it.
        _delete_files([*staged, *_prerendered_files(report.prerendered)])
        raise
    for refused in report.rejected:
        # The reason only: file names may carry PHI.
        logger.warning("DICOM import %s refused a file: %s", job.token, refused.reason)
    return report


def _claim(job: IngestJob, **fields) -> None:
    """Write ``fields`` to the job (or only check) if this run still holds it; else raise ``LeaseLost``.

    The fence of every write a run makes: the lease check that takes a job over adds one to its attempts, so
    a run paused beyond its lease (SIGSTOP, swapping, a slow disk) that wakes up matches no row and stops
    before it writes. An UPDATE, not a read, so inside a transaction it holds the job's row (PostgreSQL) or
    the write lock (SQLite) until the commit: the lease check cannot take the job over half-way.
    """
    fields = fields or {"processed": job.processed}
    if not IngestJob.objects.filter(pk=job.pk, attempts=job.attempts, status__in=LIVE).update(**fields):
        raise LeaseLost


def _prerendered_files(prerendered: dict[str, tuple]) -> list[str]:
    return [name for _, rendered, _ in prerendered.values() if rendered is not None for name in _frame_files(rendered)]


def _clean(task: tuple[int, read.Source | read.FileSource, deid.CaseKeys, read.Limits, str, str, bool]):
    """Read, de-identify, store (and maybe render) one source in a worker.

    Returns (index, stored name or None, reason, held descriptors, actions, rendered or None); the stored name
    begins with the index, so the task that renders it later knows which file of the upload it came from.
    """
    index, source, keys, limits, folder, images, render_now = task
    try:
        dataset = read.read_dataset(source, limits=limits)
        mosaic.split_mosaic(dataset)  # before de-identification removes the private header that describes it
        cleaned = deid.deidentify(dataset, keys=keys)
    except (read.UnreadableFile, deid.DeidentificationError) as error:
        return index, None, str(error), {}, Counter(), None
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
        logger.warning("Unexpected %s while reading a DICOM file", type(error).__name__)
        return index, None, "damaged DICOM file", {}, Counter(), None
    # Written through a temporary file, not a bytes buffer: a buffer's copy would be a third copy of the
    # pixel data in memory at the same time (docs/decisions.md, "Junk refused early, uploads streamed").
    with tempfile.TemporaryFile() as buffer:
        try:
            cleaned.dataset.save_as(buffer, enforce_file_format=True)
            header = _header(dataset) if render_now else None
        except Exception as error:  # noqa: BLE001
            logger.warning("Unexpected %s while writing a de-identified file", type(error).__name__)
            return index, None, "damaged DICOM file", {}, Counter(), None
        buffer.seek(0)
        stored = default_storage.save(f"{folder}/{index:06d}-{uuid.uuid4().hex}.dcm", File(buffer))
    series = f"series {dataset.get('SeriesNumber', '?')} ({dataset.get('Modality', '?')})"
    held = {(series, cleaned.held_descriptors[key]) for key in DESCRIPTORS_SHOWN if key in cleaned.held_descriptors}
    rendered = None
    if render_now:
        result, reason = _render_dataset(dataset, invert=str(dataset.get("Modality", "")) == "NM", folder=images)
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


DESCRIPTORS_SHOWN = ("SeriesDescription", "StudyDescription", "ProtocolName")
PROGRESS_SECONDS = 0.5  # between progress writes: the bar moves twice a second without a query per slice


def _note_descriptions(report: StageReport, held: set[tuple[str, str]]) -> None:
    for item in sorted(held):
        if item not in report.withheld_descriptions:
            report.withheld_descriptions.append(item)


def _stored_folder(job: IngestJob) -> str:
    """Where the job's de-identified objects are stored: each stays as its images' DICOM if it renders."""
    return f"dicom/{job.token}"


def _images_folder(job: IngestJob) -> str:
    """Where the job's rendered web images and thumbnails are stored (the names ``views.media_file`` serves)."""
    return f"images/{job.token.hex}"


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
    flight run again one at a time, so only the one that kills its worker is lost. Closed before the end (the
    caller stopped), the results still in flight are waited for and discarded, so nothing they stored stays.
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
                pending.append((item, _submit(pool, function, discard, item)))
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
        for _, future in pending:
            _discard_unread(future, discard)
        gc.unfreeze()


_END = object()


@dataclass(frozen=True)
class _Failure:
    problem: str  # RAISED or CRASHED
    error: str  # the exception's type, for the log


def _discard_unread(future: Future, discard: Callable) -> None:
    """Discard the result of a future nobody will read (its worker ran it before the pool was shut down)."""
    if future.cancelled() or future.exception() is not None:
        return
    outcome = future.result()
    if not isinstance(outcome, _Failure):
        discard(pickle.loads(outcome))  # noqa: S301 - bytes our own worker pickled


def _submit(pool: ProcessPoolExecutor, function: Callable, discard: Callable, item: Any) -> Future:
    """Submit an item; into a pool a dead worker broke, as a future that says so (the item is then run again)."""
    try:
        return pool.submit(_call_in_worker, function, discard, item)
    except BrokenProcessPool as error:
        broken: Future = Future()
        broken.set_exception(error)
        return broken


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
    lease: "Heartbeat | None" = None,
) -> IngestJob:
    """Group the stored objects into stages of the case and render their frames (unless ``ingest_stage`` did).

    Call it outside any transaction: each stage is saved in a short transaction of its own, and the progress
    written meanwhile must be seen by the page that polls it. Whatever happens, every file of the job that ends
    up in no image is deleted before the job is closed. A run that lost its claim (``_claim``: the lease check
    took the job over) stops at its next write, writes nothing, deletes the files it made for no stage and
    returns the job as its new owner has it.
    """
    job.status = IngestJob.Status.RUNNING
    job.phase = IngestJob.Phase.RENDER
    try:
        _claim(job, status=job.status, phase=job.phase)
    except LeaseLost:
        return _lost(job, prerendered)
    if lease is not None:
        progress = lease.checked(progress)
    stored = _listed(_stored_folder(job)) if job.total else []
    outcomes: dict[int, tuple[str, str]] = {
        index: (outcome, reason) for index, outcome, reason in job.report.get("files", [])
    }
    tracker = _Progress(job, progress)
    series_reports = []
    try:
        headers = []
        for name in stored:
            header = _stored_header(name, prerendered)
            if header is None:
                _note(outcomes, _index_of(name), NOT_RENDERED, "its de-identified copy could not be read back")
                tracker.advance()
                continue
            header.stored_name = name
            headers.append(header)
        for series_group in group.group_series(_first_copies(headers, outcomes, tracker)):
            series_report = _ingest_group(job, series_group, tracker, workers, outcomes, prerendered)
            if series_report is not None:
                series_reports.append(series_report)
        job.status = IngestJob.Status.DONE
    except LeaseLost:
        # The run that took the job over owns its report; of the files, this run deletes those it wrote that
        # are in no stage (the frames of the stage it was making are deleted by ``_ingest_group``).
        return _lost(job, prerendered)
    except Exception as error:
        _log_failure(job, error)
        job.report = {**job.report, "error": f"The import stopped ({type(error).__name__}); the log has the details."}
        job.status = IngestJob.Status.FAILED
    for name in stored:
        outcomes.setdefault(_index_of(name), (NOT_RENDERED, STOPPED))
    job.report = {**job.report, "series": series_reports}
    _report_files(job, outcomes)
    job.finished = timezone.now()
    final = {"status": job.status, "report": job.report, "finished": job.finished, "processed": job.processed}
    try:
        _claim(job, **final, cleaned=False)  # ended first: no other run can take the job over and use its files
    except LeaseLost:
        return _lost(job, prerendered)
    _delete_orphans(job, keep_stored=False)
    job.cleaned = True
    IngestJob.objects.filter(pk=job.pk, attempts=job.attempts).update(cleaned=True)
    return job


def _lost(job: IngestJob, prerendered: dict[str, tuple] | None) -> IngestJob:
    """Stop a run whose claim was taken over: delete the frames it made for no stage; the job as its owner has it."""
    _delete_unused(job, _prerendered_files(prerendered or {}))
    logger.warning("DICOM import %s: a run that lost its claim (paused past its lease) stopped", job.token)
    job.refresh_from_db()
    return job


class _Progress:
    """Counts the job's processed objects; writes the count at most every PROGRESS_SECONDS, and at the end.

    Written by an UPDATE of its own, in autocommit, so the page polling the job from another connection sees
    it move while the stages are rendered; fenced like every write of a run (``_claim``).
    """

    def __init__(self, job: IngestJob, callback: Callable[[int, int], None] | None):
        self.job, self.callback = job, callback
        self.written = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.job.processed += count
        now = time.monotonic()
        if now - self.written >= PROGRESS_SECONDS or self.job.processed == self.job.total:
            _claim(self.job, processed=self.job.processed)
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
            _note(outcomes, index, DUPLICATE, f"the same object as file {first[uid]}")
            tracker.advance()
        else:
            first[uid] = index
            kept.append(header)
    return kept


def _listed(folder: str) -> list[str]:
    """Return the sorted names of the files in one storage folder (none when it does not exist)."""
    if not default_storage.exists(folder):
        return []
    return sorted(f"{folder}/{name}" for name in default_storage.listdir(folder)[1])


def _delete_orphans(job: IngestJob, *, keep_stored: bool) -> int:
    """Delete the job's files that are in no image (de-identified objects too, unless ``keep_stored``)."""
    folders = [_images_folder(job)] + ([] if keep_stored else [_stored_folder(job)])
    used = _used(job, folders)
    orphans = [name for folder in folders for name in _listed(folder) if name not in used]
    _delete_files(orphans)
    return len(orphans)


def _delete_unused(job: IngestJob, names: Iterable[str]) -> None:
    """Delete those of ``names`` (files one run wrote) that are in no image: a stalled run's own leftovers."""
    names = list(names)
    if names:
        used = _used(job, [_images_folder(job), _stored_folder(job)])
        _delete_files(name for name in names if name not in used)


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


class WorkerLost(Exception):  # noqa: N818 - the task row shows this class name as what ended the task
    """What a task row records when the lease check finds that its worker died."""


class LeaseLost(Exception):  # noqa: N818 - a state, not an error: another run owns the job now
    """Raised in a run whose lease the lease check took over: it stops, leaving the job to its new owner."""


class Heartbeat:
    """The lease of a running import: a thread writes its heartbeat every few seconds until the block ends.

    The thread has a connection of its own, so the heartbeat is committed at once whatever transaction the
    import is in. It beats only while the job is still live and its attempt the current one; otherwise the
    lease check has taken the job over and ``lost`` is set.
    """

    def __init__(self, job: IngestJob) -> None:
        self.job_id, self.attempts = job.pk, job.attempts
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ingest-heartbeat-{job.pk}", daemon=True)
        self.interval = max(settings.TEACHINGFILE_INGEST_LEASE_SECONDS / 6, 0.2)

    def __enter__(self) -> "Heartbeat":
        now = timezone.now()
        claimed = IngestJob.objects.filter(pk=self.job_id, attempts=self.attempts, status__in=LIVE).update(
            status=IngestJob.Status.RUNNING, heartbeat=now
        )
        if not claimed:
            self.lost.set()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval) and not self.lost.is_set():
                self.beat()
        finally:
            connection.close()

    def checked(self, progress: Callable[[int, int], None] | None) -> Callable[[int, int], None]:
        """Wrap a progress callback so that a run whose lease was lost stops at its next file."""

        def step(done: int, total: int) -> None:
            if self.lost.is_set():
                raise LeaseLost
            if progress:
                progress(done, total)

        return step

    def beat(self) -> None:
        try:
            beating = IngestJob.objects.filter(pk=self.job_id, attempts=self.attempts, status__in=LIVE)
            if not beating.update(heartbeat=timezone.now()):
                self.lost.set()
        except DatabaseError as error:  # a busy or restarted database: the next beat tries again, reconnected
            logger.info("DICOM import heartbeat not written (%s)", type(error).__name__)
            connection.close()


def ingest_heartbeat(*, job: IngestJob) -> Heartbeat:
    """Return the context manager that holds a job's lease while it runs (see ``Heartbeat``)."""
    return Heartbeat(job)


MAX_ATTEMPTS = 2  # a job whose worker died is run once more; a file that kills its worker cannot loop


def ingest_lease_check(*, now: datetime.datetime | None = None, jobs=None) -> list[IngestJob]:
    """Retry or close every live import whose heartbeat is older than the lease (its process died).

    A job run by the task worker is queued again when it has not been retried yet and its inputs are still
    there (the spooled upload, or the de-identified objects once those are all made); any other is closed
    as failed with a per-file report. Either way the files it wrote that are in no image are deleted and
    its task row, left running by the dead worker, is marked failed.
    """
    now = now or timezone.now()
    lease = datetime.timedelta(seconds=settings.TEACHINGFILE_INGEST_LEASE_SECONDS)
    jobs = IngestJob.objects.all() if jobs is None else jobs
    # A queued job's heartbeat is when it was queued again (``_requeue``); only a running one has a lease.
    expired = jobs.filter(status=IngestJob.Status.RUNNING, heartbeat__lt=now - lease).select_related("case")
    handled = []
    for job in expired:
        # Taken over by one checker only (the worker's, the sweep's and the progress page's may race). The new
        # heartbeat is the checker's lease: should it die before it is done, the next check takes over again.
        taken = IngestJob.objects.filter(pk=job.pk, attempts=job.attempts, heartbeat=job.heartbeat)
        if not taken.update(attempts=F("attempts") + 1, heartbeat=now):
            continue
        job.refresh_from_db()  # the phase, total and report the run wrote since this check read the job
        task_rows = _task_rows_fail(job)
        if task_rows and job.attempts < MAX_ATTEMPTS and _inputs_remain(job):
            _requeue(job)
        else:
            _close(job, now=now, error="The import stopped before it finished (its process was stopped).")
            logger.warning("DICOM import %s lost its process and has been closed", job.token)
        handled.append(job)
    return handled


def _task_rows_fail(job: IngestJob) -> int:
    """Mark the job's task rows that a dead worker left running as failed; return how many rows it has."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path="cases.tasks.ingest_job", args_kwargs__kwargs__token=str(job.token))
    for row in rows.filter(status="RUNNING"):
        row.set_failed(WorkerLost("the worker running this DICOM import stopped"))
    return rows.count()


def _inputs_remain(job: IngestJob) -> bool:
    if job.phase == IngestJob.Phase.DEIDENTIFY:
        return _spool_folder(job).is_dir()
    return bool(_listed(_stored_folder(job))) or not job.total


def _requeue(job: IngestJob) -> None:
    """Run a job whose worker died once more, from the start of the phase it was in."""
    from .tasks import ingest_job

    _delete_orphans(job, keep_stored=job.phase == IngestJob.Phase.RENDER)
    job.status = IngestJob.Status.QUEUED
    job.processed = 0
    job.heartbeat = timezone.now()  # when it was queued: the sweep closes it if no worker takes it up
    with transaction.atomic():  # queued and its task row made together, or neither
        job.save(update_fields=["status", "processed", "heartbeat"])
        ingest_job.enqueue(token=str(job.token))
    logger.warning("DICOM import %s lost its process and has been queued again", job.token)


def _close(job: IngestJob, *, now: datetime.datetime, error: str) -> None:
    """Fail a job that will not run again: a report for each candidate, and every file in no image deleted."""
    prefix = f"{_stored_folder(job)}/"
    imported = {
        _index_of(name)
        for name in Image.objects.filter(series__case_id=job.case_id, dicom_file__startswith=prefix).values_list(
            "dicom_file", flat=True
        )
    }
    reported = {index: (outcome, reason) for index, outcome, reason in job.report.get("files", [])}
    stored = {_index_of(name) for name in _listed(_stored_folder(job))}
    last = max([job.report.get("candidates", 0), *reported, *stored, 0])
    outcomes: dict[int, tuple[str, str]] = {}
    for index in range(1, last + 1):
        if index in reported:
            _note(outcomes, index, *reported[index])
        if index in imported:
            _note(outcomes, index, IMPORTED, "")
        elif index not in reported:  # never reached, or de-identified but not saved in a stage
            outcomes[index] = (REFUSED if job.phase == IngestJob.Phase.DEIDENTIFY else NOT_RENDERED, STOPPED)
    job.status = IngestJob.Status.FAILED
    job.finished = now
    _report_files(job, outcomes)
    job.report["error"] = f"{error} Import the files again: those already imported are skipped."
    _claim(job, status=job.status, finished=now, report=job.report, cleaned=False)  # closed first, then cleaned
    _delete_orphans(job, keep_stored=False)
    _spool_delete(job)
    job.cleaned = True
    IngestJob.objects.filter(pk=job.pk).update(cleaned=True)


def _index_of(stored: str) -> int:
    """Return the candidate index a stored object is named by (``<index>-<random>.dcm``)."""
    found = re.match(r"(\d+)", stored.rsplit("/", 1)[-1])
    return int(found.group(1)) if found else 0


def ingest_sweep(*, now: datetime.datetime, queued_for: datetime.timedelta) -> list[IngestJob]:
    """Close imports whose process died or that no worker took up, and delete every file they left.

    Runs the lease check; fails jobs still queued after ``queued_for``; deletes the orphans of ended jobs
    not yet cleaned up (a process killed while it cleaned) and spooled uploads that no live job owns.
    """
    closed = ingest_lease_check(now=now)
    since = now - queued_for
    waiting = IngestJob.objects.filter(status=IngestJob.Status.QUEUED).filter(
        Q(heartbeat=None, created__lt=since) | Q(heartbeat__lt=since)
    )
    for job in waiting.select_related("case"):
        try:
            _close(job, now=now, error="No worker took the import up.")
        except LeaseLost:
            continue  # ended meanwhile
        logger.warning("DICOM import %s was stale and has been closed", job.token)
        closed.append(job)
    for job in IngestJob.objects.exclude(status__in=LIVE).filter(cleaned=False):
        _delete_orphans(job, keep_stored=False)
        _spool_delete(job)
        IngestJob.objects.filter(pk=job.pk).update(cleaned=True)
    _sweep_spool(now=now, older_than=queued_for)
    return closed


def _sweep_spool(*, now: datetime.datetime, older_than: datetime.timedelta) -> None:
    """Delete spooled uploads of no live job (a request that failed after spooling), once old enough."""
    root = Path(settings.TEACHINGFILE_UPLOAD_SPOOL)
    if not root.is_dir():
        return
    live = {job.hex for job in IngestJob.objects.filter(status__in=LIVE).values_list("token", flat=True)}
    limit = (now - older_than).timestamp()
    for folder in root.iterdir():
        try:
            old = folder.stat().st_mtime < limit
        except FileNotFoundError:  # deleted meanwhile by the task or another sweep
            continue
        if folder.name not in live and old:
            shutil.rmtree(folder, ignore_errors=True)


def ingest_watchdog() -> None:
    """Run the lease check every half lease, for good (a daemon thread of the task worker)."""
    interval = settings.TEACHINGFILE_INGEST_LEASE_SECONDS / 2
    while True:
        close_old_connections()
        try:
            ingest_lease_check()
        except Exception:
            logger.exception("The DICOM import lease check failed")
        time.sleep(interval)


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


def _ingest_group(job, series_group, tracker, workers: int, outcomes: dict, prerendered=None):
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
                _note(outcomes, _index_of(header.stored_name), ALREADY_IMPORTED, ALREADY_IN_CASE)
                tracker.advance()
            else:
                fresh.append(header)
        if prerendered is not None:
            results = ((header.stored_name, *prerendered[header.stored_name][1:]) for header in fresh)
        else:
            modality = existing.modality if existing else DICOM_MODALITIES.get(series_group.modality, Modality.OTHER)
            invert = modality == Modality.NM  # nuclear medicine reads black on white
            tasks = ((header.stored_name, invert, _images_folder(job)) for header in fresh)
            results = bounded_map(_render, tasks, workers=workers, failed=_render_failed, discard=_discard_rendered)
        with closing(results):  # a stop mid-way discards what the workers still had in flight
            for name, rendered, reason in results:
                if rendered is None:
                    _note(outcomes, _index_of(name), NOT_RENDERED, reason)
                    logger.warning("DICOM import %s could not render an object: %s", job.token, reason)
                else:
                    objects.append((name, rendered))
                    written += _frame_files(rendered)
                tracker.advance()
        if not objects:
            return None
        series, images, added = _save_stage(job, series_group, objects)
    except Exception:
        _delete_files(written)
        raise
    for name, _ in objects:
        # Not added: another import saved the same object while this one rendered it.
        if name in added:
            _note(outcomes, _index_of(name), IMPORTED, "")
        else:
            _note(outcomes, _index_of(name), ALREADY_IMPORTED, ALREADY_IN_CASE)
    if not added:
        return None
    try:
        _thumbnail_key_images(job, series)
    except (OSError, PIL.UnidentifiedImageError) as error:
        # The stage is saved and complete; pages show the key image's web image until a thumbnail exists.
        reason = type(error).__name__
        logger.warning("DICOM import %s made no thumbnail for stage %s (%s)", job.token, series.pk, reason)
    return {"label": series.label, "files": len(added), "images": images, "series": series.pk}


@transaction.atomic
def _save_stage(job, series_group, objects: list[tuple[str, "RenderedObject"]]):
    """Write the stage and the rows of its rendered objects; return (stage, images added, objects used)."""
    _claim(job)  # first: a run that lost its claim saves no stage, and the job's row stays held until the commit
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


def _thumbnail_key_images(job: IngestJob, series: Series) -> list[str]:
    """Give the stage's key images that have none a thumbnail made from their web image; return the names."""
    written = []
    for image in series.images.filter(is_key=True, thumbnail=""):
        with image.file.open("rb") as handle:
            picture = PIL.Image.open(io.BytesIO(handle.read()))
            picture.load()
        image.thumbnail.name = default_storage.save(
            _frame_name(_images_folder(job), ".jpg"), ContentFile(render.thumbnail_of(picture))
        )
        try:
            with transaction.atomic():  # named only under the claim: else the next run's cleanup may delete it
                _claim(job)
                image.save(update_fields=["thumbnail"])
        except LeaseLost:
            _delete_files([image.thumbnail.name])
            raise
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


def _render(task: tuple[str, bool, str]):
    """Render and store every frame of one stored object (runs in a worker): (name, RenderedObject or None, reason)."""
    name, invert, folder = task
    with default_storage.open(name) as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    return (name, *_render_dataset(dataset, invert=invert, folder=folder))


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
        _delete_files(_frame_files(result[1]))


def _frame_name(folder: str, suffix: str) -> str:
    """Name a rendered file in its job's folder: random, so it says nothing about the image."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def _render_dataset(dataset: pydicom.Dataset, *, invert: bool, folder: str) -> tuple[RenderedObject | None, str]:
    """Render and store every frame of a de-identified dataset in ``folder``: (RenderedObject or None, reason)."""
    frames: list[StoredFrame] = []
    first_web = b""  # the first frame's web image, read for burned-in text without reading it back from storage
    # A CT, MR or PET slice is one of hundreds in its stack: only the stage's key image needs a thumbnail,
    # made once the stack is grouped (_thumbnail_key_image).
    thumbnails = str(dataset.get("Modality", "")).upper() not in render.CROSS_SECTIONAL
    try:
        for index, frame in enumerate(render.render_dataset(dataset, invert=invert, thumbnails=thumbnails)):
            web = default_storage.save(_frame_name(folder, frame.web_suffix), ContentFile(frame.web))
            first_web = first_web or frame.web
            thumbnail = ""
            if frame.thumbnail is not None:
                thumbnail = default_storage.save(_frame_name(folder, ".jpg"), ContentFile(frame.thumbnail))
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
    held, regions = _burned_in_check(dataset, frames, first_web)
    rendered = RenderedObject(
        frames=frames,
        held=held,
        text_regions=regions,
        instance_uid=str(dataset.get("SOPInstanceUID", "")),
    )
    return rendered, ""


def _burned_in_check(
    dataset: pydicom.Dataset, frames: list[StoredFrame], first_web: bytes
) -> tuple[bool, list[list[int]]]:
    """Return whether the object is held for burned-in text and the boxes of text found in its first frame.

    Held by its header (``burned_in.burned_in_risk``, with the site's modalities) or, for a radiograph, by
    text in its pixels; a multi-frame radiograph is held unread. Held objects are read too, for pre-drawn masks.
    """
    held = burned_in.burned_in_risk(dataset, extra_modalities=settings.TEACHINGFILE_BURNED_IN_MODALITIES)
    if not held and not burned_in.needs_text_check(dataset):
        return False, []
    if not held and len(frames) > 1:
        return True, []
    picture = PIL.Image.open(io.BytesIO(first_web))
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


def ingest_job_checked(*, job: IngestJob) -> IngestJob:
    """Return the job after a lease check of its own, so the author's page sees a dead worker at once."""
    if job.status in LIVE and ingest_lease_check(jobs=IngestJob.objects.filter(pk=job.pk)):
        job.refresh_from_db()
    return job


def ingest_job_state(*, job: IngestJob) -> dict:
    """What the progress page polls: the phase and counts, and once the job ended its per-file report."""
    state = {
        "status": job.status,
        "phase": job.phase,
        "phase_label": job.get_phase_display(),
        "processed": job.processed,
        "total": job.total,
        "percent": job.percent,
    }
    if job.status not in LIVE:
        state |= {"files": job.report.get("files", []), "error": job.report.get("error", "")}
    return state
