import os
import threading

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from ingest.watch import ingest_watchdog


class Command(db_worker.Command):
    help = (
        "Run the database task worker (django-tasks-db's db_worker), checking beside it every few seconds for "
        "DICOM imports whose process died, which it queues again or closes (ingest.watch.ingest_lease_check)."
    )

    def handle(self, *args, **options):
        # With --reload the parent only restarts the child that runs the tasks: the child checks.
        if not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            threading.Thread(target=ingest_watchdog, name="ingest-lease-check", daemon=True).start()
        super().handle(*args, **options)
