"""Profiles (the name shown and the training level) and sign-up invitations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class TrainingLevel(models.TextChoices):
    PGY1 = "pgy1", "PGY-1"
    PGY2 = "pgy2", "PGY-2"
    PGY3 = "pgy3", "PGY-3"
    PGY4 = "pgy4", "PGY-4"
    PGY5 = "pgy5", "PGY-5"
    FELLOW = "fellow", "Fellow"
    ATTENDING = "attending", "Attending"
    OTHER = "other", "Other"


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(
        max_length=80,
        blank=True,
        help_text="Shown instead of the username across the site (e.g. “Dr Fay Faculty”). Leave blank to "
        "show the full name, or the username when there is none.",
    )
    training_level = models.CharField(max_length=16, choices=TrainingLevel.choices, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(training_level__in=["", *TrainingLevel.values]), name="profile_training_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or str(self.user)


class Invitation(models.Model):
    email = models.EmailField(help_text="The invitation link is sent to this address; the new account keeps it.")
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    expires = models.DateTimeField(editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="invitation_used",
    )

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(condition=Q(expires__gt=models.F("created")), name="invitation_expires_after"),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:signup-invited", args=[self.token])

    def is_usable(self, *, now=None) -> bool:
        return self.used_at is None and self.expires > (now or timezone.now())
