"""Background work: the DICOM import, run by the task worker (``manage.py db_worker``)."""

from django.conf import settings
from django_tasks import task

from .ingest import ingest_run
from .models import IngestJob, Series
from .services import series_prepare_values


@task()
def ingest_job(token: str) -> str:
    """Render the staged objects of one import job, then prepare their viewer values; return its final status.

    The job is done for its author once rendered; the values only spare the first reader of each stack a wait.
    """
    job = IngestJob.objects.select_related("case").get(token=token)
    status = ingest_run(job=job, workers=settings.TEACHINGFILE_INGEST_WORKERS).status
    if status == IngestJob.Status.DONE:
        for series in Series.objects.filter(pk__in=[item["series"] for item in job.report.get("series", [])]):
            series_prepare_values(series=series)
    return status
