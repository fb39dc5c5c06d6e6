"""Background work: the DICOM import, run by the task worker (``manage.py db_worker``)."""

from django.conf import settings
from django_tasks import task

from .ingest import LeaseLost, ingest_spooled
from .models import IngestJob, Series
from .values import series_prepare_values


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


@task()
def prepare_viewer_values(series_ids: list[int]) -> int:
    """Prepare the viewer values of imported stages, sparing their first reader the wait; return how many."""
    return sum(series_prepare_values(series=series) for series in Series.objects.filter(pk__in=series_ids))
