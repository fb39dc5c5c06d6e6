"""The import task, run by the task worker (``manage.py db_worker``)."""

from django.conf import settings
from django_tasks import task

from cases.models import Image, Series
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
    case_values_enqueue(job=job)
    return status


def case_values_enqueue(*, job: IngestJob) -> None:
    """Queue the viewer values of every stage of the job's case that holds DICOM frames, however the job ended.

    A request never computes values (``cases.values``): the stages a failed import saved, and those a later
    import found already imported, would otherwise have none for good. The task skips frames already prepared.
    """
    with_dicom = Image.objects.filter(series__case_id=job.case_id).exclude(dicom_file="").values("series_id")
    series_ids = list(Series.objects.filter(case_id=job.case_id, pk__in=with_dicom).values_list("pk", flat=True))
    if series_ids:
        prepare_viewer_values.enqueue(series_ids=series_ids)
