"""The import task, run by the task worker (``manage.py db_worker``)."""

from django.conf import settings
from django_tasks import task

from cases.tasks import prepare_viewer_values

from .lease import LeaseLost
from .models import IngestJob
from .run import ingest_spooled


@task()
def ingest_job(token: str) -> str:
    """De-identify the spooled upload of one import job and render it; return the job's final status."""
    job = IngestJob.objects.select_related("case").get(token=token)
    attempts = job.attempts
    status = ingest_spooled(job=job, workers=settings.TEACHINGFILE_INGEST_WORKERS).status
    if job.attempts != attempts:  # its row says so, rather than the status of the run that took over
        raise LeaseLost("another run of this DICOM import took it over while this one was paused")
    if status == IngestJob.Status.DONE:
        prepare_viewer_values.enqueue(series_ids=[item["series"] for item in job.report.get("series", [])])
    return status
