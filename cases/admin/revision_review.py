"""The editors' review of authors' changes to published cases, and the author's withdrawal of theirs (admin pages)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from .. import revisions
from ..forms import RevisionDecisionForm
from ..models import Case, CaseRevision


def urls(admin_site) -> list:
    """Return the pages' URL patterns, each behind the admin's login (mounted under the case admin)."""
    return [
        path(
            "revisions/<int:pk>/",
            admin_site.admin_view(require_GET(revision_review_view)),
            name="cases_caserevision_review",
        ),
        path(
            "revisions/<int:pk>/decide/",
            admin_site.admin_view(require_POST(revision_decision_view)),
            name="cases_caserevision_decide",
        ),
        path(
            "revisions/<int:pk>/withdraw/",
            admin_site.admin_view(require_POST(revision_withdraw_view)),
            name="cases_caserevision_withdraw",
        ),
    ]


def revision_review_view(request, pk: int):
    """Show an editor what a revision changes, field by field, with the approve and return forms while it waits."""
    if not request.user.has_perm("cases.publish_case"):
        raise PermissionDenied
    revision = get_object_or_404(
        CaseRevision.objects.select_related("case", "author__profile", "editor__profile"), pk=pk
    )
    [described] = revisions.revision_changes([revision], case=revision.case)
    context = {
        **admin.site.each_context(request),
        "opts": Case._meta,
        "title": f"Changes to case {revision.case.number}",
        "revision": revision,
        "changes": described.changes,
        "waiting": revision.status == CaseRevision.Status.PENDING,
    }
    return TemplateResponse(request, "admin/cases/case/revision_review.html", context)


def revision_decision_view(request, pk: int):
    """Approve a waiting revision (readers then see it), or return it to its author with comments."""
    if not request.user.has_perm("cases.publish_case"):
        raise PermissionDenied
    revision = get_object_or_404(CaseRevision.objects.select_related("case"), pk=pk)
    form = RevisionDecisionForm(request.POST)
    number = revision.case.number
    if not form.is_valid():
        messages.error(request, f"{number} unchanged: {form.error_text()}")
        return HttpResponseRedirect(reverse("admin:cases_caserevision_review", args=[revision.pk]))
    try:
        if form.cleaned_data["decision"] == RevisionDecisionForm.APPROVE:
            revisions.case_revision_approve(revision=revision, by=request.user)
            messages.success(request, f"The changes to {number} are approved: readers see them now.")
        else:
            revisions.case_revision_return(revision=revision, by=request.user, comments=form.cleaned_data["comments"])
            messages.success(request, f"The changes to {number} went back to their author with your comments.")
    except revisions.RevisionRefused as problem:
        messages.error(request, f"{number} unchanged: {problem}")
        return HttpResponseRedirect(reverse("admin:cases_caserevision_review", args=[revision.pk]))
    return HttpResponseRedirect(reverse("admin:cases_case_review_queue"))


def revision_withdraw_view(request, pk: int):
    """Drop the open revision of a case one may edit; the case stays as readers see it."""
    revision = CaseRevision.objects.select_related("case").filter(pk=pk).first()
    if revision is None or not revision.case.is_editable_by(request.user):
        raise PermissionDenied
    try:
        revisions.case_revision_withdraw(revision=revision, by=request.user)
    except revisions.RevisionRefused as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"Your changes to {revision.case.number} were withdrawn.")
    return HttpResponseRedirect(reverse("admin:cases_case_change", args=[revision.case_id]))
