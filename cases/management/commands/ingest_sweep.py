from datetime import timedelta

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize
from django.utils import timezone

from cases import ingest


class Command(BaseCommand):
    help = (
        "Fail DICOM imports that have been queued or running for too long (their worker died) and delete "
        "their de-identified objects that ended up in no image. Safe to run from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=6, help="Age after which an unfinished import is stale.")

    def handle(self, *args, hours: float, **options):
        swept = ingest.ingest_sweep(older_than=timedelta(hours=hours), now=timezone.now())
        self.stdout.write(f"{len(swept)} stale import{pluralize(len(swept))} closed.")
