"""Background work: the DICOM import, run by the task worker (``manage.py db_worker``)."""

from django.conf import settings
from django_tasks import task

from .ingest import ingest_run
from .models import IngestJob


@task()
def ingest_job(token: str) -> str:
    """Render the staged objects of one import job; return its final status."""
    job = IngestJob.objects.select_related("case").get(token=token)
    return ingest_run(job=job, workers=settings.TEACHINGFILE_INGEST_WORKERS).status
