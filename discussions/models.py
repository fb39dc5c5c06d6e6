"""Comments on a case (spoilers: shown only after the reader's reveal), their flags, and notifications."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from cases.models import Case

BODY_LIMIT = 5000


class CommentQuerySet(models.QuerySet):
    def for_thread(self) -> "CommentQuerySet":
        """Add what a thread shows of each comment: its author and the author's groups."""
        return self.select_related("author__profile").prefetch_related("author__groups")


class Comment(models.Model):
    """A comment in a case's discussion; a reply has a parent and belongs to its top-level comment's thread."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    thread = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The top-level comment this one answers, directly or not; empty for a top-level comment.",
    )
    body = models.TextField(max_length=BODY_LIMIT, help_text="Markdown: links, lists, emphasis, code.")
    created = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False, help_text="Deleted by its author; kept for the thread.")
    is_hidden = models.BooleanField(default=False, help_text="Hidden by a moderator; its author still sees it.")
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created", "pk"]
        indexes = [models.Index(fields=["case", "thread", "created"])]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.case_id}"


class CommentRevision(models.Model):
    """A comment's earlier text, kept when it is edited, deleted or hidden."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    replaced_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=20, choices=[("edited", "Edited"), ("deleted", "Deleted")])

    class Meta:
        ordering = ["replaced_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.comment_id}"


class Flag(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created", "pk"]
        constraints = [models.UniqueConstraint(fields=["comment", "flagged_by"], name="flag_once_per_reader")]
        permissions = [("moderate_comment", "Can hide and restore flagged comments")]

    def __str__(self) -> str:
        return f"Flag on {self.comment_id}"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a user should know: a comment on their case."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=300)
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.message

    def link_for(self, user) -> str:
        """Return where this notification leads ``user``: a comment in its thread; anything else (a review, a
        submission) to the case in the authoring screen for staff, to the case's page for readers."""
        if self.comment_id:
            return reverse("discussions:thread", args=[self.case.number]) + f"#comment-{self.comment_id}"
        if user.is_staff:
            return reverse("admin:cases_case_change", args=[self.case.pk])
        return self.case.get_absolute_url()
