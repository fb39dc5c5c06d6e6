"""Imports whose process died or never started: the lease check (run again once, or closed), the sweep of
stale jobs and spooled uploads, the watchdog thread of ``db_worker``, and the progress page's view of a job."""

import datetime
import logging
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from .lease import LIVE, MAX_ATTEMPTS, LeaseLost, WorkerLost, close_job
from .models import IngestJob
from .received import receiver_sweep
from .spool import spool_delete, spool_folder
from .storage import delete_orphans, listed, stored_folder
from .tasks import ingest_job

logger = logging.getLogger(__name__)


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
            close_job(job, now=now, error="The import stopped before it finished (its process was stopped).")
            logger.warning("DICOM import %s lost its process and has been closed", job.token)
        handled.append(job)
    return handled


def _task_rows_fail(job: IngestJob) -> int:
    """Mark the job's task rows that a dead worker left running as failed; return how many rows it has."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=ingest_job.module_path, args_kwargs__kwargs__token=str(job.token))
    for row in rows.filter(status="RUNNING"):
        row.set_failed(WorkerLost("the worker running this DICOM import stopped"))
    return rows.count()


def _inputs_remain(job: IngestJob) -> bool:
    if job.phase == IngestJob.Phase.DEIDENTIFY:
        return spool_folder(job).is_dir()
    return bool(listed(stored_folder(job))) or not job.total


def _requeue(job: IngestJob) -> None:
    """Run a job whose worker died once more, from the start of the phase it was in."""
    delete_orphans(job, keep_stored=job.phase == IngestJob.Phase.RENDER)
    job.status = IngestJob.Status.QUEUED
    job.processed = 0
    job.heartbeat = timezone.now()  # when it was queued: the sweep closes it if no worker takes it up
    with transaction.atomic():  # queued and its task row made together, or neither
        job.save(update_fields=["status", "processed", "heartbeat"])
        ingest_job.enqueue(token=str(job.token))
    logger.warning("DICOM import %s lost its process and has been queued again", job.token)


def ingest_sweep(*, now: datetime.datetime, queued_for: datetime.timedelta) -> list[IngestJob]:
    """Close imports whose process died or that no worker took up, and delete every file they left.

    Runs the lease check; fails jobs still queued after ``queued_for``; deletes the orphans of ended jobs
    not yet cleaned up (a process killed while it cleaned), spooled uploads that no live job owns, and the
    stored objects of studies a killed DICOM receiver left (``received.receiver_sweep``).
    """
    closed = ingest_lease_check(now=now)
    since = now - queued_for
    waiting = IngestJob.objects.filter(status=IngestJob.Status.QUEUED).filter(
        Q(heartbeat=None, created__lt=since) | Q(heartbeat__lt=since)
    )
    for job in waiting.select_related("case"):
        try:
            close_job(job, now=now, error="No worker took the import up.")
        except LeaseLost:
            continue  # ended meanwhile
        logger.warning("DICOM import %s was stale and has been closed", job.token)
        closed.append(job)
    for job in IngestJob.objects.exclude(status__in=LIVE).filter(cleaned=False):
        delete_orphans(job, keep_stored=False)
        spool_delete(job)
        IngestJob.objects.filter(pk=job.pk).update(cleaned=True)
    _sweep_spool(now=now, older_than=queued_for)
    receiver_sweep(older_than=queued_for)  # studies a killed DICOM receiver was receiving
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
