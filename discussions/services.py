"""Writes: comments, their edits and flags, moderation, and notifications of a case's authors."""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.names import display_name
from cases.models import Case
from cases.reader_pages import reader_changed

from .models import Comment, CommentRevision, Flag, Notification

logger = logging.getLogger(__name__)


class NotAllowed(Exception):
    """The user may not do this to the comment."""


@transaction.atomic
def comment_create(*, case: Case, author, body: str, parent: Comment | None = None) -> Comment:
    """Add a comment (a reply when ``parent`` is given) and tell the case's other authors."""
    if parent is not None and parent.case_id != case.pk:
        raise NotAllowed("A reply belongs to the discussion of the same case.")
    thread = (parent.thread or parent) if parent is not None else None
    comment = Comment.objects.create(case=case, author=author, parent=parent, thread=thread, body=body.strip())
    _notify_authors(comment)
    return comment


def _notify_authors(comment: Comment) -> None:
    """Tell the case's authors (but the commenter) in the site now, and by e-mail once the comment is saved."""
    case = comment.case
    url = reverse("discussions:thread", args=[case.number]) + f"#comment-{comment.pk}"
    who = display_name(comment.author)
    message = f"{who} commented on your case {case.number}."
    subject = f"New comment on case {case.number}"
    authors = case.authors.exclude(pk=comment.author_id)
    notifications_send(users=authors, case=case, message=message, subject=subject, url=url, comment=comment)


def notifications_send(
    *, users, case: Case, message: str, subject: str, url: str, body: str = "", comment: Comment | None = None
) -> None:
    """Tell these users in the site now, and by e-mail (``body`` when given) once the transaction commits."""
    users = list(users)
    short = Truncator(message).chars(Notification._meta.get_field("message").max_length)
    Notification.objects.bulk_create(
        Notification(user=user, case=case, comment=comment, message=short) for user in users
    )
    for user in users:  # bulk_create sends no signal
        reader_changed(user.pk)
    addresses = [user.email for user in users if user.email]
    if addresses:
        text = f"{body or message}\n\n{url}\n"
        transaction.on_commit(lambda: _mail(subject, text, addresses))


def _mail(subject: str, text: str, addresses: list[str]) -> None:
    for address in addresses:
        try:
            send_mail(subject, text, None, [address])
        except OSError:
            logger.exception("Could not send a notification e-mail (%s)", subject)


@transaction.atomic
def comment_edit(*, comment: Comment, by, body: str) -> Comment:
    """Replace the text of one's own comment, keeping the old text; the comment shows "edited"."""
    if comment.author_id != by.pk or comment.is_deleted:
        raise NotAllowed("Only its author may edit a comment.")
    CommentRevision.objects.create(comment=comment, body=comment.body, reason="edited")
    comment.body = body.strip()
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, by) -> Comment:
    """Delete one's own comment: its text goes (kept in the history); replies to it stay."""
    if comment.author_id != by.pk:
        raise NotAllowed("Only its author may delete a comment.")
    CommentRevision.objects.create(comment=comment, body=comment.body, reason="deleted")
    comment.body = ""
    comment.is_deleted = True
    comment.save(update_fields=["body", "is_deleted"])
    return comment


def comment_flag(*, comment: Comment, by, reason: str = "") -> Flag:
    """Ask the editors to look at a comment; flagging twice changes nothing."""
    flag, _ = Flag.objects.get_or_create(comment=comment, flagged_by=by, defaults={"reason": reason.strip()[:200]})
    return flag


@transaction.atomic
def comment_set_hidden(*, comment: Comment, by, hidden: bool) -> Comment:
    """Hide a comment from everyone but its author and the moderators, or restore it; its flags are settled."""
    if not by.has_perm("discussions.moderate_comment"):
        raise NotAllowed("Only editors moderate the discussion.")
    comment.is_hidden = hidden
    comment.hidden_by, comment.hidden_at = (by, timezone.now()) if hidden else (None, None)
    comment.save(update_fields=["is_hidden", "hidden_by", "hidden_at"])
    comment.flags.filter(resolved_at__isnull=True).update(resolved_at=timezone.now(), resolved_by=by)
    logger.info("Comment %s %s by user %s", comment.pk, "hidden" if hidden else "restored", by.pk)
    return comment


def notifications_mark_read(*, user) -> int:
    return Notification.objects.unread().filter(user=user).update(read_at=timezone.now())
