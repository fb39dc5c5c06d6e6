from datetime import timedelta

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize
from django.utils import timezone

from ingest.watch import ingest_sweep


class Command(BaseCommand):
    help = (
        "Close DICOM imports whose process died (no heartbeat within TEACHINGFILE_INGEST_LEASE_SECONDS) or that "
        "no worker took up, and delete every file an import left that is in no image: de-identified objects, "
        "rendered images, thumbnails and spooled uploads. Safe to run from cron, e.g. every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=float,
            default=30,
            help="Age after which a queued import that no worker took up is closed, and an unowned spooled "
            "upload deleted (default: 30).",
        )

    def handle(self, *args, minutes: float, **options):
        closed = ingest_sweep(now=timezone.now(), queued_for=timedelta(minutes=minutes))
        self.stdout.write(f"{len(closed)} stale import{pluralize(len(closed))} closed or queued again.")
