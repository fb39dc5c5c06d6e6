"""The DICOM receiver run as the site runs it: ``receive_dicom`` and ``db_worker`` as real processes on a migrated
database of their own, with a study of planted identifiers to send."""

import json
import os
import socket
from pathlib import Path

import pytest
from django.conf import settings
from pydicom import Dataset

from tests.conftest import database_url, migrated_database_url  # noqa: F401 - fixtures of the site's database
from tests.processes import SiteProcesses, wait_for
from tests.test_no_phi import phi_dataset

ROOT = Path(settings.BASE_DIR)

SETUP = """
from accounts.services import demo_accounts_ensure
from ingest.models import ReceiverRoute
accounts = demo_accounts_ensure()
ReceiverRoute.objects.create(ae_title="TF_FACULTY", author=accounts["faculty"])
ReceiverRoute.objects.create(ae_title="TF_OFF", author=accounts["faculty2"], active=False)
"""

STATE = """
import json
from pathlib import Path
from django.conf import settings
from cases.models import Case, Image, Series
from django_tasks_db.models import DBTaskResult
from ingest.models import IngestJob, ReceivedStudy
root = Path(settings.MEDIA_ROOT)
# Read in the order the site writes: what a test waits for first (its jobs ended, no task pending), then the
# images, then the files. Once the first say the work is over, nothing writes any more and the rest agree; read
# the other way, an image named after the look at the images showed its file as an orphan of a job done since.
jobs = [[job.status, job.report.get("counts", {}), job.cleaned] for job in IngestJob.objects.order_by("pk")]
tasks_pending = DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).count()
held = {name for row in Image.objects.values_list("file", "thumbnail", "medium", "dicom_file") for name in row if name}
stems = {Path(name).stem for name in held if name.startswith("dicom/")}
stored = [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]
print(json.dumps({
    "cases": [
        {"number": case.number, "status": case.status, "authors": [user.username for user in case.authors.all()],
         "title": case.title, "stages": [[series.modality, series.label_confirmed, series.images.count(),
                                          series.images.filter(held_for_review=True).count()]
                                         for series in case.series.order_by("order")]}
        for case in Case.objects.order_by("pk")
    ],
    "jobs": jobs,
    "received": [[study.objects_received, study.modalities, study.flagged] for study in ReceivedStudy.objects.all()],
    "images": Image.objects.count(),
    "tasks_pending": tasks_pending,
    "orphans": sorted(name for name in stored if name not in held
                      and not (name.startswith("values/") and name.split("/")[1] in stems)),
    "folders": sorted(str(path.relative_to(root)) for path in (root / "dicom").iterdir())
               if (root / "dicom").is_dir() else [],
}))
"""


DUMP = """
from django.db import connection
with connection.cursor() as cursor:
    for table in connection.introspection.table_names():
        cursor.execute(f'SELECT * FROM "{table}"')
        for row in cursor.fetchall():
            print(repr(row))
"""


def free_port() -> int:
    """A port the system gave no one: any worker of any suite running beside this one gets another."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def study_datasets(*, series: tuple[int, ...] = (3, 2), study: int = 1) -> list[Dataset]:
    """Return a CT study of several series, an identifier planted in every attribute of PS3.15 Table E.1-1."""
    datasets = []
    for number, slices in enumerate(series, start=1):
        for slice_number in range(slices):
            ds, _ = phi_dataset(study * 1000 + number * 100 + slice_number)
            ds.StudyInstanceUID = f"{ds.StudyInstanceUID}.{study}"
            ds.SeriesInstanceUID = f"{ds.SeriesInstanceUID}.{study}.{number}"
            ds.SeriesNumber = number
            ds.InstanceNumber = slice_number + 1
            ds.ImagePositionPatient = [0, 0, slice_number * 5]
            datasets.append(ds)
    return datasets


def planted_values() -> list[str]:
    """Every identifier ``study_datasets`` plants (the UIDs made per study and series included)."""
    planted = set(phi_dataset(0)[1])
    for ds in study_datasets(series=(3, 2)):
        planted |= {ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID}
    return sorted(planted)


@pytest.fixture
def receiver_env(database_url, tmp_path) -> dict:  # noqa: F811 - the fixture imported above
    """The environment of the site's processes; a test may change the receiver's limits before ``receiver``."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.processes",
        "TEACHINGFILE_MEDIA_ROOT": str(tmp_path / "media"),
        "TEACHINGFILE_UPLOAD_SPOOL": str(tmp_path / "spool"),
        "TEACHINGFILE_INGEST_WORKERS": "1",
        "TEACHINGFILE_RECEIVER_QUIET_SECONDS": "0",
        "TEACHINGFILE_RECEIVER_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def receiver(receiver_env, tmp_path):
    """``receive_dicom`` and ``db_worker`` running, the routes made; yields helpers and the port (``start`` runs
    another of the site's processes on the same database and media, stopped with the others)."""
    env = receiver_env
    processes = SiteProcesses(env, tmp_path)
    manage, start = processes.manage, processes.start

    def state() -> dict:
        return json.loads(processes.shell(STATE))

    def rows() -> str:
        """Every row of every table of the site's database, as text."""
        return processes.shell(DUMP)

    def logs() -> str:
        return "\n".join(path.read_text() for path in sorted(tmp_path.glob("*.log")))

    processes.shell(SETUP)
    listening = start("receiver", "receive_dicom")
    start("worker", "db_worker", "--no-reload")

    def ready() -> bool:
        assert listening.poll() is None, (tmp_path / "receiver.log").read_text()
        return "Receiving DICOM" in (tmp_path / "receiver.log").read_text()

    wait_for(ready, "the receiver to listen", 120)  # a busy machine starts Django slowly
    try:
        yield {
            "port": int(env["TEACHINGFILE_RECEIVER_PORT"]),
            "state": state,
            "rows": rows,
            "logs": logs,
            "env": env,
            "manage": manage,
            "shell": processes.shell,
            "start": start,
        }
    finally:
        processes.stop()
