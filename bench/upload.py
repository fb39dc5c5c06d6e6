"""Benchmark: the web upload's request, ours against a plain Django view that saves the upload (not a test).

Issue 13 asks that the request store the upload and answer in under 2 s after the bytes arrive, and leave the
rest to a task. Generates a synthetic CT series (``demo.synthetic.ct_pelvis``, default 600 slices of 128×128,
16-bit, about 20 MB) zipped, builds one multipart body of it, then posts that same body with
Django's test client (one process, a throw-away SQLite database, the request's body parsed as a server would)
to two views in turns, round after round (a, b, a, b, …):

- ours: the authoring screen's import (``CaseAdmin.dicom_upload_view``: the author's permission, the form,
  ``ingest.ingest_upload`` spooling the zip and listing its members from the central directory, the job row,
  the progress page), the task queued in the database as deployed, not run;
- the peer: a plain Django view that saves each uploaded file with ``FileSystemStorage`` and answers "saved".

Printed: the data size, each view's median request time over the rounds and the ratio; then the time the
import task (``ingest.tasks.ingest_job``: de-identify, render, group; ``TEACHINGFILE_INGEST_WORKERS`` processes,
default the machine's cores) takes to finish the upload of ours' first round (``--task-runs N``: of the first N
rounds, and their median).
Run: ``.venv/bin/python bench/upload.py [--slices N] [--size PIXELS] [--rounds N] [--task-runs N]``.
"""

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "teachingfile.settings.test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.storage import FileSystemStorage  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.client import BOUNDARY, encode_multipart  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402

from bench.interleave import interleaved, report  # noqa: E402

PEER_FOLDER = Path(tempfile.mkdtemp(prefix="bench-upload-peer-"))


def plain_upload(request):
    """Save each uploaded file to disk and answer: the least a view that stores an upload does."""
    storage = FileSystemStorage(location=PEER_FOLDER)
    for upload in request.FILES.getlist("files"):
        storage.save(upload.name, upload)
    return HttpResponse("saved")


urlpatterns = [path("bench/plain-upload/", plain_upload), path("", include("teachingfile.urls"))]


def series_zip(slices: int, size: int) -> bytes:
    """Return a zip of a synthetic CT series, one DICOM file a slice (stored: CT pixels deflate poorly)."""
    from demo import synthetic

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, dataset in enumerate(synthetic.ct_pelvis(patient=synthetic.Patient(), slices=slices, size=size)):
            member = io.BytesIO()
            dataset.save_as(member, enforce_file_format=True)
            archive.writestr(f"DICOM/S0001/IM{index + 1:05d}", member.getvalue())
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=600)
    parser.add_argument("--size", type=int, default=128, help="rows and columns of each slice")
    parser.add_argument("--rounds", type=int, default=5, help="turns of each view (at least 3)")
    parser.add_argument("--task-runs", type=int, default=1, help="uploads of ours then imported by the task")
    options = parser.parse_args()
    settings.ROOT_URLCONF = __name__
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bench-upload-media-"))
    settings.TEACHINGFILE_UPLOAD_SPOOL = Path(tempfile.mkdtemp(prefix="bench-upload-spool-"))
    # As deployed: the request queues the import in the database for the worker, and the worker forks.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TEACHINGFILE_INGEST_WORKERS = int(os.environ.get("TEACHINGFILE_INGEST_WORKERS", os.cpu_count() or 1))
    connection.creation.create_test_db(verbosity=0)
    from cases.tests.factories import make_case, make_user
    from ingest import tasks
    from ingest.models import IngestJob

    try:
        started = time.perf_counter()
        data = series_zip(options.slices, options.size)
        body = encode_multipart(BOUNDARY, {"files": [SimpleUploadedFile("export.zip", data, "application/zip")]})
        content_type = f"multipart/form-data; boundary={BOUNDARY}"  # a body already encoded: sent as it is
        print(  # noqa: T201
            f"data: a zip of {options.slices} CT slices of {options.size}×{options.size}, 16-bit: "
            f"{len(data) / 1e6:.1f} MB ({len(body) / 1e6:.1f} MB of multipart body), made in "
            f"{time.perf_counter() - started:.0f} s; {options.rounds} interleaved rounds of one request each; "
            f"{settings.TEACHINGFILE_INGEST_WORKERS} import worker processes\n"
        )
        author = make_user("bench-author", "faculty")
        client = Client()
        client.force_login(author)

        def ours() -> float:
            case = make_case(authors=[author], status="draft")
            start = time.perf_counter()
            response = client.post(reverse("admin:cases_case_dicom", args=[case.pk]), body, content_type=content_type)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200 and b"<progress" in response.content, response.status_code
            return elapsed

        def peer() -> float:
            start = time.perf_counter()
            response = client.post("/bench/plain-upload/", body, content_type=content_type)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200 and response.content == b"saved", response.status_code
            return elapsed

        figures = interleaved(
            {"ours: import view (spool, list, queue)": ours, "plain view saving the file": peer}, options.rounds
        )
        print("request time, test client, body parsing included")  # noqa: T201
        for line in report(figures, unit="s", digits=3):
            print(line)  # noqa: T201
        jobs = list(IngestJob.objects.order_by("pk")[: options.task_runs])
        durations = []
        for job in jobs:
            start = time.perf_counter()
            status = tasks.ingest_job.call(token=str(job.token))
            durations.append(time.perf_counter() - start)
            job.refresh_from_db()
            assert status == IngestJob.Status.DONE and job.processed == options.slices, (status, job.report)
        print(  # noqa: T201
            f"\nthe import task, finishing the upload of ours ({len(durations)} of its rounds): "
            f"{', '.join(f'{value:.1f}' for value in durations)} s; "
            f"median {statistics.median(durations):.1f} s ({options.slices / statistics.median(durations):.0f} "
            "slices/s; viewer values prepared afterwards by their own task, not counted)"
        )
    finally:
        for folder in (PEER_FOLDER, settings.MEDIA_ROOT, settings.TEACHINGFILE_UPLOAD_SPOOL):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
