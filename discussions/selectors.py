"""Reads: a case's discussion as one reader sees it, a page of threads at a time, and the moderation queue."""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from cases.models import Case

from .models import Comment

THREADS_PER_PAGE = 20


@dataclass
class Entry:
    """A comment as this reader sees it, with its replies; ``text`` is False when only a placeholder shows."""

    comment: Comment
    text: bool
    is_case_author: bool
    replies: list["Entry"] = field(default_factory=list)


def thread_page(*, case: Case, reader, page_number) -> tuple[Page, list[Entry]]:
    """Return a page of the case's top-level comments with their replies, as ``reader`` may see them.

    Hidden comments show to their author and the moderators only; to others, as to everyone for a deleted
    one, a placeholder stands in where replies hang from it, and nothing at all otherwise.
    """
    roots = Comment.objects.filter(case=case, parent__isnull=True).for_thread()
    page = Paginator(roots, THREADS_PER_PAGE).get_page(page_number)
    replies = list(Comment.objects.filter(thread__in=list(page.object_list)).for_thread())
    moderator = reader.has_perm("discussions.moderate_comment")
    authors = set(case.authors.values_list("pk", flat=True))
    children: dict[int, list[Comment]] = {}
    for reply in replies:
        children.setdefault(reply.parent_id, []).append(reply)

    def entry(comment: Comment) -> Entry | None:
        below = [item for item in (entry(child) for child in children.get(comment.pk, [])) if item]
        shown = not comment.is_deleted and (not comment.is_hidden or moderator or comment.author_id == reader.pk)
        if not shown and not below:
            return None
        return Entry(comment, shown, comment.author_id in authors, below)

    return page, [item for item in (entry(root) for root in page.object_list) if item]


def flagged_comments():
    """Comments with flags still open, most flagged first, for the editors' queue."""
    open_flags = Q(flags__resolved_at__isnull=True)
    return (
        Comment.objects.filter(flags__resolved_at__isnull=True)
        .annotate(open_flags=Count("flags", filter=open_flags))
        .select_related("author__profile", "case")
        .prefetch_related("flags", "author__groups")
        .order_by("-open_flags", "created")
        .distinct()
    )


def hidden_comments():
    return (
        Comment.objects.filter(is_hidden=True)
        .select_related("author__profile", "case", "hidden_by__profile")
        .order_by("-hidden_at")
    )
