"""The discussion of a case, for readers who revealed it; moderation for editors; notifications."""

import logging
from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.selectors import ReaderState

from . import limits, services
from .forms import CommentForm, FlagForm
from .models import Comment, Notification
from .selectors import flagged_comments, hidden_comments, thread_page

logger = logging.getLogger(__name__)


def _state_with_discussion(request, number: str) -> ReaderState:
    """The case for a reader who may see its discussion: after their reveal (or as its editor); else 404."""
    state = ReaderState.for_case(request, number)
    if state.reveal is None and not state.can_edit:
        raise Http404("Reveal the case first: its discussion names the diagnosis.")
    return state


@require_safe
@login_required
def thread(request, number: str):
    state = _state_with_discussion(request, number)
    return _thread_response(request, state, CommentForm(case=state.case))


@require_POST
@login_required
def comment_create(request, number: str):
    state = _state_with_discussion(request, number)
    form = CommentForm(request.POST, case=state.case)
    wait = limits.comment_wait(request)
    if wait:
        form.is_valid()
        form.add_error(None, f"You have posted many comments in a short time: wait {wait}, then post this one again.")
        logger.warning("Refused a comment on %s by user %s: too many comments", number, request.user.pk)
        return _thread_response(request, state, form, status=HTTPStatus.TOO_MANY_REQUESTS)
    if not form.is_valid():
        logger.info("Refused a comment on %s: %s", number, form.errors.as_json())
        return _thread_response(request, state, form, status=400)
    comment = services.comment_create(
        case=state.case, author=request.user, body=form.cleaned_data["body"], parent=form.cleaned_data["parent"]
    )
    limits.comment_count(request)
    return redirect(_thread_url(comment))


def _thread_response(request, state: ReaderState, form: CommentForm, status: int = 200):
    """The thread page; a refused comment comes back in the form with its message, its text kept."""
    page, entries = thread_page(case=state.case, reader=request.user, page_number=request.GET.get("page"))
    return render(
        request,
        "discussions/thread.html",
        {"case": state.case, "page": page, "entries": entries, "form": form},
        status=status,
    )


def _own_comment(request, pk: int) -> Comment:
    comment = get_object_or_404(Comment.objects.select_related("case"), pk=pk, author=request.user, is_deleted=False)
    _state_with_discussion(request, comment.case.number)
    return comment


@require_http_methods(["GET", "POST"])
@login_required
def comment_edit(request, pk: int):
    comment = _own_comment(request, pk)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        services.comment_edit(comment=comment, by=request.user, body=form.cleaned_data["body"])
        return redirect(_thread_url(comment))
    return render(request, "discussions/comment_edit.html", {"comment": comment, "form": form})


@require_POST
@login_required
def comment_delete(request, pk: int):
    comment = _own_comment(request, pk)
    services.comment_delete(comment=comment, by=request.user)
    messages.success(request, "Your comment was deleted.")
    return redirect(_thread_url(comment))


@require_POST
@login_required
def comment_flag(request, pk: int):
    comment = get_object_or_404(Comment.objects.select_related("case"), pk=pk, is_deleted=False)
    _state_with_discussion(request, comment.case.number)
    form = FlagForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.comment_flag(comment=comment, by=request.user, reason=reason)
    messages.success(request, "Thank you: an editor will look at this comment.")
    return redirect(_thread_url(comment))


@require_POST
@permission_required("discussions.moderate_comment", raise_exception=True)
def comment_hide(request, pk: int):
    comment = get_object_or_404(Comment, pk=pk)
    services.comment_set_hidden(comment=comment, by=request.user, hidden=True)
    messages.success(request, "The comment is hidden from readers.")
    return redirect("discussions:moderation")


@require_POST
@permission_required("discussions.moderate_comment", raise_exception=True)
def comment_restore(request, pk: int):
    comment = get_object_or_404(Comment, pk=pk)
    services.comment_set_hidden(comment=comment, by=request.user, hidden=False)
    messages.success(request, "The comment is shown again.")
    return redirect("discussions:moderation")


@require_safe
@permission_required("discussions.moderate_comment", raise_exception=True)
def moderation(request):
    return render(
        request, "discussions/moderation.html", {"flagged": flagged_comments(), "hidden": hidden_comments()[:50]}
    )


@require_safe
@login_required
def notifications(request):
    items = list(Notification.objects.filter(user=request.user).select_related("case")[:50])
    for item in items:
        item.link = item.link_for(request.user)
    unread = any(item.read_at is None for item in items)
    return render(request, "discussions/notifications.html", {"notifications": items, "unread": unread})


@require_POST
@login_required
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("discussions:notifications")


def _thread_url(comment: Comment) -> str:
    return reverse("discussions:thread", args=[comment.case.number]) + f"#comment-{comment.pk}"
