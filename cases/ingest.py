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
"""

import datetime
import gc
import io
import logging
import multiprocessing
import os
import re
import shutil
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import PIL.Image
import pydicom
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.move import file_move_safe
from django.core.files.storage import default_storage
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from .imaging import deidentify as deid
from .imaging import group, read, render
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
    return read.Limits(max_pixels_per_frame=settings.TEACHINGFILE_MAX_IMAGE_PIXELS)


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
            for source in read.sources_from_file(path.name, handle, size=size, limits=limits):
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
        if job.phase == IngestJob.Phase.DEIDENTIFY:
            _delete_orphans(job, keep_stored=False)  # a retry starts this phase afresh
            job.report = {"candidates": job.report.get("candidates", 0)}
            try:
                ingest_stage(job=job, sources=_spooled_sources(job), workers=workers, lease=lease)
            except LeaseLost:
                return job
            except Exception as error:
                ingest_abandon(job=job, error=error)
                return job
            _spool_delete(job)
        return ingest_run(job=job, workers=workers, lease=lease)


def ingest_abandon(*, job: IngestJob, error: Exception) -> None:
    """Close a job whose de-identification raised: failed, a report of every file, nothing of it left."""
    if isinstance(error, LeaseLost):
        return  # the lease check has taken the job over
    logger.exception("DICOM import %s failed", job.token)
    # The exception's text stays in the operator's log: it may quote values.
    _close(job, now=timezone.now(), error=f"The import stopped ({type(error).__name__}); the log has the details.")


LIVE = (IngestJob.Status.QUEUED, IngestJob.Status.RUNNING)


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
    files: list[list] = []
    done = 0

    def step() -> None:
        nonlocal done
        if lease is not None and lease.lost.is_set():
            raise LeaseLost
        done += 1
        if done % PROGRESS_EVERY == 0:
            IngestJob.objects.filter(pk=job.pk).update(processed=done)

    def candidates():
        for index, source in sources:
            if isinstance(source, read.Rejected):
                report.rejected.append(source)
                files.append([index, "refused", source.reason])
                step()
            else:
                yield (index, source, keys, limits, _stored_folder(job), _images_folder(job), render_now)

    for index, name, stored, reason, held, actions, rendered in bounded_map(_clean, candidates(), workers=workers):
        step()
        if stored is None:
            report.rejected.append(read.Rejected(name=name, reason=reason))
            files.append([index, "refused", reason])
            continue
        if rendered is not None:
            report.prerendered[stored] = rendered
        report.staged += 1
        report.actions.update(actions)
        _note_descriptions(report, held)
    for rejected in report.rejected:
        # The reason only: file names may carry PHI.
        logger.warning("DICOM import %s refused a file: %s", job.token, rejected.reason)
    job.phase = IngestJob.Phase.RENDER
    job.total = report.staged
    job.processed = 0
    job.report = {
        **job.report,
        "rejected_count": len(report.rejected),
        "rejected_reasons": dict(Counter(rejected.reason for rejected in report.rejected)),
        "files": sorted(files),
    }
    job.save(update_fields=["phase", "total", "processed", "report"])
    return report


def _clean(task: tuple[int, read.Source | read.FileSource, deid.CaseKeys, read.Limits, str, str, bool]):
    """Read, de-identify, store (and maybe render) one source in a worker.

    Returns (index, name, stored name or None, reason, held descriptors, actions, rendered or None).
    """
    index, source, keys, limits, folder, images, render_now = task
    try:
        dataset = read.read_dataset(source, limits=limits)
        cleaned = deid.deidentify(dataset, keys=keys)
    except (read.UnreadableFile, deid.DeidentificationError) as error:
        return index, source.name, None, str(error), {}, Counter(), None
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
        logger.warning("Unexpected %s while reading a DICOM file", type(error).__name__)
        return index, source.name, None, "damaged DICOM file", {}, Counter(), None
    buffer = io.BytesIO()
    try:
        cleaned.dataset.save_as(buffer, enforce_file_format=True)
    except Exception as error:  # noqa: BLE001
        logger.warning("Unexpected %s while writing a de-identified file", type(error).__name__)
        return index, source.name, None, "damaged DICOM file", {}, Counter(), None
    # Named by its candidate's index (what the report of a killed job goes by) and unique (viewer values are
    # stored by the name's stem).
    stored = default_storage.save(f"{folder}/{index}-{uuid.uuid4().hex}.dcm", ContentFile(buffer.getvalue()))
    series = f"series {dataset.get('SeriesNumber', '?')} ({dataset.get('Modality', '?')})"
    held = {(series, cleaned.held_descriptors[key]) for key in DESCRIPTORS_SHOWN if key in cleaned.held_descriptors}
    rendered = None
    if render_now:
        result, reason = _render_dataset(dataset, invert=str(dataset.get("Modality", "")) == "NM", folder=images)
        rendered = (_header(dataset), result, reason)
    return index, source.name, stored, "", held, cleaned.actions, rendered


DESCRIPTORS_SHOWN = ("SeriesDescription", "StudyDescription", "ProtocolName")
PROGRESS_EVERY = 5  # files between progress writes: the bar moves smoothly without a query per slice


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
    lease: "Heartbeat | None" = None,
) -> IngestJob:
    """Group the stored objects into stages of the case and render their frames (unless ``ingest_stage`` did).

    Whatever happens, every file of the job that ends up in no image is deleted before the job is closed.
    Under a ``lease`` that was lost (the lease check took the job over) the job is left as the check left it.
    """
    job.status = IngestJob.Status.RUNNING
    job.phase = IngestJob.Phase.RENDER
    IngestJob.objects.filter(pk=job.pk, attempts=job.attempts).update(status=job.status, phase=job.phase)
    if lease is not None:
        progress = lease.checked(progress)
    folder = _stored_folder(job)
    stored = _listed(folder) if job.total else []
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
            series_reports.append(_ingest_group(job, series_group, progress, workers, prerendered))
        job.report = {**job.report, "series": series_reports}
        job.status = IngestJob.Status.DONE
    except LeaseLost:
        return job  # the run that took the job over owns its files and its report now
    except Exception as error:
        logger.exception("DICOM import %s failed", job.token)
        # The exception's text stays in the operator's log: it may quote values.
        job.report = {**job.report, "error": f"The import stopped ({type(error).__name__}); the log has the details."}
        job.status = IngestJob.Status.FAILED
    if lease is not None and lease.lost.is_set():
        return job
    _delete_orphans(job, keep_stored=False)
    job.finished = timezone.now()
    job.cleaned = True
    IngestJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
        status=job.status, report=job.report, finished=job.finished, processed=job.processed, cleaned=True
    )
    return job


def _listed(folder: str) -> list[str]:
    """Return the sorted names of the files in one storage folder (none when it does not exist)."""
    if not default_storage.exists(folder):
        return []
    return sorted(f"{folder}/{name}" for name in default_storage.listdir(folder)[1])


def _delete_orphans(job: IngestJob, *, keep_stored: bool) -> int:
    """Delete the job's files that are in no image (de-identified objects too, unless ``keep_stored``)."""
    folders = [_images_folder(job)] + ([] if keep_stored else [_stored_folder(job)])
    used: set[str] = set()
    for folder in folders:
        prefix = f"{folder}/"
        # A job's files go into its own case's images only: the case's index spares a scan of every image.
        rows = Image.objects.filter(series__case_id=job.case_id).filter(
            Q(file__startswith=prefix) | Q(thumbnail__startswith=prefix) | Q(dicom_file__startswith=prefix)
        )
        used.update(name for row in rows.values_list("file", "thumbnail", "dicom_file") for name in row)
    orphans = [name for folder in folders for name in _listed(folder) if name not in used]
    _delete_files(orphans)
    return len(orphans)


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
        except DatabaseError as error:  # a busy database: the next beat tries again, well within the lease
            logger.info("DICOM import heartbeat not written (%s)", type(error).__name__)


def ingest_heartbeat(*, job: IngestJob) -> Heartbeat:
    """Return the context manager that holds a job's lease while it runs (see ``Heartbeat``)."""
    return Heartbeat(job)


STOPPED = "the import stopped before this file was done (its process was stopped); import it again"
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
    expired = jobs.filter(status__in=LIVE, heartbeat__lt=now - lease).select_related("case")
    handled = []
    for job in expired:
        # Taken over by one checker only (the worker's, the sweep's and the progress page's may race). The new
        # heartbeat is the checker's lease: should it die before it is done, the next check takes over again.
        taken = IngestJob.objects.filter(pk=job.pk, attempts=job.attempts, heartbeat=job.heartbeat)
        if not taken.update(attempts=F("attempts") + 1, heartbeat=now):
            continue
        job.attempts += 1
        job.heartbeat = now
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
    job.heartbeat = None  # a queued job waits for a worker; the sweep closes it if none comes
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
    reported = {item[0]: item for item in job.report.get("files", [])}
    stored = {_index_of(name) for name in _listed(_stored_folder(job))}
    last = max([job.report.get("candidates", 0), *reported, *stored, 0])
    files = []
    for index in range(1, last + 1):
        if index in imported:
            files.append([index, "imported", ""])
        elif index in reported:
            files.append(reported[index])
        else:
            files.append([index, "refused", STOPPED])
    _delete_orphans(job, keep_stored=False)
    _spool_delete(job)
    job.status = IngestJob.Status.FAILED
    job.finished = now
    job.cleaned = True
    job.report = {
        **job.report,
        "files": files,
        "error": f"{error} Import the files again: those already imported are skipped.",
    }
    job.save(update_fields=["status", "finished", "cleaned", "report"])


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
    waiting = IngestJob.objects.filter(status=IngestJob.Status.QUEUED, heartbeat=None, created__lt=now - queued_for)
    for job in waiting.select_related("case"):
        _close(job, now=now, error="No worker took the import up.")
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


def _ingest_group(job, series_group, progress, workers: int, prerendered=None) -> dict:
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
            tasks = ((header.stored_name, invert, _images_folder(job)) for header in fresh)
            results = bounded_map(_render, tasks, workers=workers)
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
    except Exception:
        _delete_files(written)
        raise
    try:
        _thumbnail_key_images(series, folder=_images_folder(job))
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


def _thumbnail_key_images(series: Series, *, folder: str) -> list[str]:
    """Give the stage's key images that have none a thumbnail made from their web image; return the names."""
    written = []
    for image in series.images.filter(is_key=True, thumbnail=""):
        with image.file.open("rb") as handle:
            picture = PIL.Image.open(io.BytesIO(handle.read()))
            picture.load()
        image.thumbnail.name = default_storage.save(
            _frame_name(folder, ".jpg"), ContentFile(render.thumbnail_of(picture))
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


@dataclass(frozen=True)
class RenderedObject:
    frames: list[StoredFrame]
    held: bool
    instance_uid: str
    slice_position_mm: float | None


def _header(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """Return the data elements the grouping needs, without the pixels or the buffer they were read from."""
    header = pydicom.Dataset()
    for tag in dataset.keys():  # noqa: SIM118 - iterating a Dataset itself parses every element
        if tag != PIXEL_DATA:
            header[tag] = dataset.get_item(tag)  # as read: parsed only if grouping asks for it
    return header


PIXEL_DATA = 0x7FE00010


def _render(task: tuple[str, bool, str]):
    """Render and store every frame of one stored object (runs in a worker): (name, RenderedObject or None, reason)."""
    name, invert, folder = task
    with default_storage.open(name) as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    return (name, *_render_dataset(dataset, invert=invert, folder=folder))


def _frame_name(folder: str, suffix: str) -> str:
    """Name a rendered file in its job's folder: random, so it says nothing about the image."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def _render_dataset(dataset: pydicom.Dataset, *, invert: bool, folder: str) -> tuple[RenderedObject | None, str]:
    """Render and store every frame of a de-identified dataset in ``folder``: (RenderedObject or None, reason)."""
    frames: list[StoredFrame] = []
    # A CT, MR or PET slice is one of hundreds in its stack: only the stage's key image needs a thumbnail,
    # made once the stack is grouped (_thumbnail_key_image).
    thumbnails = str(dataset.get("Modality", "")).upper() not in render.CROSS_SECTIONAL
    try:
        for frame in render.render_dataset(dataset, invert=invert, thumbnails=thumbnails):
            web = default_storage.save(_frame_name(folder, frame.web_suffix), ContentFile(frame.web))
            thumbnail = ""
            if frame.thumbnail is not None:
                thumbnail = default_storage.save(_frame_name(folder, ".jpg"), ContentFile(frame.thumbnail))
            frames.append(StoredFrame(web, thumbnail, frame.width, frame.height, frame.window, frame.pixel_spacing_mm))
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
        slice_position_mm=group.slice_position(dataset),
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
        slice_position_mm=rendered.slice_position_mm,
        window_center=frame.window.center if frame.window else None,
        window_width=frame.window.width if frame.window else None,
        pixel_spacing_mm=frame.pixel_spacing_mm,
        held_for_review=rendered.held,
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
