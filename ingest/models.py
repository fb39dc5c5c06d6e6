"""Import jobs (one DICOM upload or import command, its progress, lease and report) and the DICOM receiver's
routes, daily counts and received studies."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
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


# What a DICOM application entity title may hold (PS3.5 6.2, AE): 16 characters, no backslash nor control
# character; leading and trailing spaces are not significant, so none is stored.
AE_TITLE_VALIDATOR = RegexValidator(
    r"^[\x21-\x5b\x5d-\x7e]([\x20-\x5b\x5d-\x7e]{0,14}[\x21-\x5b\x5d-\x7e])?$",
    "An AE title is 1 to 16 printable ASCII characters, no backslash, no leading or trailing space.",
)


class ReceiverRouteQuerySet(models.QuerySet):
    def active(self) -> "ReceiverRouteQuerySet":
        """Return the routes the receiver accepts associations for."""
        return self.filter(active=True, author__is_active=True)


class ReceiverRoute(models.Model):
    """A called AE title of the DICOM receiver and the faculty member whose inbox its studies land in."""

    ae_title = models.CharField(
        "AE title",
        max_length=16,
        unique=True,
        validators=[AE_TITLE_VALIDATOR],
        help_text="The called AE title a PACS workstation sends to, e.g. TF_SMITH. Case-sensitive, as in DICOM.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="receiver_routes",
        help_text="The faculty member who becomes the author of every draft made from what this AE title receives.",
    )
    active = models.BooleanField(default=True, help_text="Untick to refuse associations to this AE title.")
    destination = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A draft of the author's that the studies sent next are added to; empty: a new draft per study.",
    )
    adds_to_draft = models.BooleanField(
        default=False,
        help_text="The author chose a draft for the studies sent next (kept when that draft is deleted, to say so).",
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = ReceiverRouteQuerySet.as_manager()

    class Meta:
        ordering = ["ae_title"]

    def __str__(self) -> str:
        return self.ae_title


class ReceiverDay(models.Model):
    """What one AE title received on one day (UTC): the per-day limit counts it."""

    route = models.ForeignKey(ReceiverRoute, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    bytes = models.BigIntegerField(default=0)
    objects_received = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["route", "day"], name="receiverday_one_per_route_and_day")]

    def __str__(self) -> str:
        return f"{self.route_id} on {self.day}"


class ReceivedStudyQuerySet(models.QuerySet):
    def inbox_of(self, user) -> "ReceivedStudyQuerySet":
        """Return the received studies whose draft this user authors and may still edit, newest first."""
        return (
            self.filter(case__authors=user, case__status=Case.Status.DRAFT)
            .select_related("case", "job")
            .annotate(
                images=models.Count("case__series__images", distinct=True),
                stages=models.Count("case__series", distinct=True),
            )
            .order_by("-received", "-pk")
        )


class ReceivedStudy(models.Model):
    """One study the DICOM receiver turned into a draft case, or added to a chosen one: where it came from, what
    it held, and where it went."""

    class Into(models.TextChoices):
        NEW = "new", "A new draft"
        CHOSEN = "chosen", "Added to the draft you chose"
        FALLBACK = "fallback", "A new draft: the draft you chose was no longer a draft of yours"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="received_studies")
    job = models.OneToOneField(IngestJob, on_delete=models.CASCADE, related_name="received_study")
    route = models.ForeignKey(ReceiverRoute, on_delete=models.SET_NULL, null=True, blank=True)
    into = models.CharField(max_length=10, choices=Into.choices, default=Into.NEW)
    received = models.DateTimeField(auto_now_add=True)
    objects_received = models.PositiveIntegerField(default=0)
    modalities = models.CharField(max_length=100, blank=True, help_text="The DICOM modalities received, e.g. CT, MR.")
    flagged = models.JSONField(
        default=dict,
        blank=True,
        help_text="The teaching-file selection (IHE TCE key object) the PACS sent, coded options only: no free text.",
    )

    objects = ReceivedStudyQuerySet.as_manager()

    class Meta:
        ordering = ["-received"]

    def __str__(self) -> str:
        return f"Study received for {self.case_id}"
