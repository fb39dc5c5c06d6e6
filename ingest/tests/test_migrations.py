"""The import job moved from the cases app to this one with its rows (SeparateDatabaseAndState, same table)."""

import os
import subprocess
import sys

from django.conf import settings

# Run in a fresh process on a database of its own: made by the migrations as they stood before the move, a job
# and its queued task written there, then the ingest app migrated to today's state and read back through today's models.
SCRIPT = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

call_command("migrate", "cases", "0017_ingestjob_lease", verbosity=0)
call_command("migrate", "contenttypes", verbosity=0)
call_command("migrate", "django_tasks_database", verbosity=0)
before = MigrationExecutor(connection).loader.project_state(("cases", "0017_ingestjob_lease")).apps
assert ("ingest", "0001_initial") not in MigrationExecutor(connection).loader.applied_migrations
Case = before.get_model("cases", "Case")
Job = before.get_model("cases", "IngestJob")
from django.contrib.contenttypes.models import ContentType
case = Case.objects.create(number="moved1", title="A case", brief_history="Pain.", diagnosis="Secret")
job = Job.objects.create(case=case, status="running", total=3, processed=2, report={"candidates": 3})
ContentType.objects.get_or_create(app_label="cases", model="ingestjob")
from django_tasks_db.models import DBTaskResult
DBTaskResult.objects.create(
    task_path="cases.tasks.ingest_job", args_kwargs={"args": [], "kwargs": {"token": str(job.token)}},
    status="READY", backend_name="default", run_after=timezone.now(),
)

call_command("migrate", "ingest", verbosity=0)
from ingest.models import IngestJob
from ingest.tasks import ingest_job
moved = IngestJob.objects.get(token=job.token)
task = DBTaskResult.objects.get()
print(moved.case.number, moved.status, moved.processed, moved.report["candidates"], IngestJob._meta.db_table)
print(task.task_path == ingest_job.module_path, ContentType.objects.get(model="ingestjob").app_label)
"""


def test_a_job_made_before_the_move_is_found_by_the_ingest_app_with_its_task(tmp_path):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'before-the-move.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["moved1 running 2 3 cases_ingestjob", "True ingest"]
