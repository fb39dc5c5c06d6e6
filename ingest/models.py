"""Import jobs: one DICOM upload or import command, its progress, lease and report."""

import uuid

from django.conf import settings
from django.db import models

from cases.models import Case


class IngestJob(models.Model):
    """One DICOM upload being turned into stages of a case; its progress and report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Phase(models.TextChoices):
        DEIDENTIFY = "deidentify", "De-identifying"
        RENDER = "render", "Rendering"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="ingest_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.DEIDENTIFY)
    total = models.PositiveIntegerField(default=0, help_text="Files of the current phase.")
    processed = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the process running the import (its lease)."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times the lease check took it over from a dead process."
    )
    cleaned = models.BooleanField(
        default=False, help_text="Ended, and every file it wrote that is in no image (and its spooled upload) deleted."
    )

    class Meta:
        # Made in the cases app, moved here with its rows: the table keeps its name (docs/decisions.md).
        db_table = "cases_ingestjob"
        ordering = ["-created"]
        indexes = [models.Index(fields=["status"], name="ingestjob_status")]

    def __str__(self) -> str:
        return f"DICOM import {self.token} for {self.case_id}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        # A zip inside the upload's zip is one listed file but many processed ones: never past 100 %.
        return min(100, int(100 * self.processed / self.total)) if self.total else 0
