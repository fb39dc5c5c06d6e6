"""Reveals: who has seen the answer of which case, with the answer and differential they committed to."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .cases import Case

DIFFERENTIAL_ENTRIES = 3  # a reader's differential before the reveal: their top three


class ReaderQuerySet(models.QuerySet):
    """Rows a reader keeps, by user once logged in or by session before: reveals and gate answers."""

    def for_reader(self, *, user=None, session_key: str | None = None) -> "ReaderQuerySet":
        """Return the rows of a logged-in user, or of an anonymous session."""
        if user is not None and user.is_authenticated:
            return self.filter(user=user)
        if session_key:
            return self.filter(user__isnull=True, session_key=session_key)
        return self.none()


class Reveal(models.Model):
    """A reader's reveal of a case, with the answer they committed to beforehand."""

    class Assessment(models.TextChoices):
        NONE = "", "Not rated"
        CORRECT = "correct", "I got it"
        PARTIAL = "partial", "Partly"
        MISSED = "missed", "I missed it"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    session_key = models.CharField(max_length=40, blank=True)
    revealed_at = models.DateTimeField(auto_now_add=True)
    committed_answer = models.CharField(max_length=200, blank=True)
    self_assessment = models.CharField(max_length=10, choices=Assessment.choices, blank=True)

    objects = ReaderQuerySet.as_manager()

    class Meta:
        ordering = ["-revealed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "case"], condition=Q(user__isnull=False), name="reveal_once_per_user"
            ),
            models.UniqueConstraint(
                fields=["session_key", "case"], condition=Q(user__isnull=True), name="reveal_once_per_session"
            ),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(session_key=""), name="reveal_has_reader"),
        ]

    def __str__(self) -> str:
        return f"Reveal of {self.case_id}"


class RevealDifferential(models.Model):
    """One entry of the differential a reader committed to before the reveal, ranked from 1 (most likely)."""

    reveal = models.ForeignKey(Reveal, on_delete=models.CASCADE, related_name="differential")
    rank = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=200)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["reveal", "rank"], name="reveal_differential_rank_once"),
            models.CheckConstraint(
                condition=Q(rank__gte=1, rank__lte=DIFFERENTIAL_ENTRIES), name="reveal_differential_rank_in_range"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="reveal_differential_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.text}"
