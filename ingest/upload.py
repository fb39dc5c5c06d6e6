"""The web request's part of an import: spool the upload, list its candidate files, queue the task."""

import logging
import shutil

from django.db import transaction

from cases.models import Case
from imaging.uploads import candidate_names

from .models import IngestJob
from .spool import ingest_limits, spool_file, spool_folder
from .tasks import ingest_job

logger = logging.getLogger(__name__)


def ingest_upload(*, case: Case, uploads: list, user) -> tuple[IngestJob, list[str]]:
    """Spool an author's uploaded files and queue their import; return the job and its candidates' names.

    Nothing is de-identified here: the request only moves the files into the spool and lists the candidates
    from each zip's central directory. The names are for the answer page alone (a candidate's 1-based place
    in the list is its index in the job's report); they are never stored.
    """
    job = IngestJob.objects.create(case=case, created_by=user)
    limits = ingest_limits()
    folder = spool_folder(job)
    names: list[str] = []
    try:
        folder.mkdir(mode=0o700, parents=True)
        for number, upload in enumerate(uploads, start=1):
            path = folder / str(number)
            spool_file(upload, path)
            with path.open("rb") as handle:
                names += candidate_names(upload.name, handle, size=path.stat().st_size, limits=limits)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job.total = len(names)
    job.report = {"candidates": len(names)}
    job.save(update_fields=["total", "report"])
    transaction.on_commit(lambda: ingest_job.enqueue(token=str(job.token)))
    return job, names
