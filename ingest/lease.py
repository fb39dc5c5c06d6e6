"""A running import's lease: its heartbeat, the fence every write of a run passes (``attempts``), its
progress writes, and the closing of a job with its report and clean-up."""

import datetime
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from cases.models import Image

from .models import IngestJob
from .outcomes import IMPORTED, NOT_RENDERED, REFUSED, STOPPED, index_of, note, report_files
from .spool import spool_delete
from .storage import delete_orphans, listed, stored_folder

logger = logging.getLogger(__name__)


LIVE = (IngestJob.Status.QUEUED, IngestJob.Status.RUNNING)


def claim(job: IngestJob, **fields) -> None:
    """Write ``fields`` to the job (or only check) if this run still holds it; else raise ``LeaseLost``.

    The fence of every write a run makes: the lease check that takes a job over adds one to its attempts, so
    a run paused beyond its lease (SIGSTOP, swapping, a slow disk) that wakes up matches no row and stops
    before it writes. An UPDATE, not a read, so inside a transaction it holds the job's row (PostgreSQL) or
    the write lock (SQLite) until the commit: the lease check cannot take the job over half-way.
    """
    fields = fields or {"processed": job.processed}
    if not IngestJob.objects.filter(pk=job.pk, attempts=job.attempts, status__in=LIVE).update(**fields):
        raise LeaseLost


PROGRESS_SECONDS = 0.5  # between progress writes: the bar moves twice a second without a query per slice


class Progress:
    """Counts the job's processed objects; writes the count at most every PROGRESS_SECONDS, and at the end.

    Written by an UPDATE of its own, in autocommit, so the page polling the job from another connection sees
    it move while the stages are rendered; fenced like every write of a run (``claim``).
    """

    def __init__(self, job: IngestJob, callback: Callable[[int, int], None] | None):
        self.job, self.callback = job, callback
        self.written = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.job.processed += count
        now = time.monotonic()
        if now - self.written >= PROGRESS_SECONDS or self.job.processed == self.job.total:
            claim(self.job, processed=self.job.processed)
            self.written = now
        if self.callback:
            self.callback(self.job.processed, self.job.total)


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


def close_job(job: IngestJob, *, now: datetime.datetime, error: str) -> None:
    """Fail a job that will not run again: a report for each candidate, and every file in no image deleted."""
    prefix = f"{stored_folder(job)}/"
    imported = {
        index_of(name)
        for name in Image.objects.filter(series__case_id=job.case_id, dicom_file__startswith=prefix).values_list(
            "dicom_file", flat=True
        )
    }
    reported = {index: (outcome, reason) for index, outcome, reason in job.report.get("files", [])}
    stored = {index_of(name) for name in listed(stored_folder(job))}
    last = max([job.report.get("candidates", 0), *reported, *stored, 0])
    outcomes: dict[int, tuple[str, str]] = {}
    for index in range(1, last + 1):
        if index in reported:
            note(outcomes, index, *reported[index])
        if index in imported:
            note(outcomes, index, IMPORTED, "")
        elif index not in reported:  # never reached, or de-identified but not saved in a stage
            outcomes[index] = (REFUSED if job.phase == IngestJob.Phase.DEIDENTIFY else NOT_RENDERED, STOPPED)
    job.status = IngestJob.Status.FAILED
    job.finished = now
    report_files(job, outcomes)
    job.report["error"] = f"{error} Import the files again: those already imported are skipped."
    claim(job, status=job.status, finished=now, report=job.report, cleaned=False)  # closed first, then cleaned
    delete_orphans(job, keep_stored=False)
    spool_delete(job)
    job.cleaned = True
    IngestJob.objects.filter(pk=job.pk).update(cleaned=True)
