"""The editors' review queue: the cases waiting for review, each published or returned from the list."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from .. import revisions, services
from ..forms import ReviewDecisionForm
from ..models import Case
from ..workflow import StatusChangeRefused
from .access import page_context


def review_queue_view(request):
    """List the cases waiting for review, oldest first, each with a publish and a return form."""
    if not request.user.has_perm("cases.publish_case"):
        raise PermissionDenied
    cases = Case.objects.filter(status=Case.Status.IN_REVIEW).prefetch_related(
        Prefetch("authors", queryset=get_user_model().objects.select_related("profile"))
    )
    cases = cases.order_by(models.F("submitted_at").asc(nulls_first=True), "updated", "pk")
    context = page_context(request, title="Cases to review", cases=cases, revisions=revisions.pending_revisions())
    return TemplateResponse(request, "admin/cases/case/review_queue.html", context)


def review_decision_view(request, pk: int):
    """Publish a case in review, or return it to its authors with comments."""
    if not request.user.has_perm("cases.publish_case"):
        raise PermissionDenied
    case = get_object_or_404(Case, pk=pk, status=Case.Status.IN_REVIEW)
    form = ReviewDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Case {case.number} unchanged: {form.error_text()}")
        return HttpResponseRedirect(reverse("admin:cases_case_review_queue"))
    try:
        if form.cleaned_data["decision"] == ReviewDecisionForm.PUBLISH:
            services.case_set_status(
                case=case, status=Case.Status.PUBLISHED, by=request.user, comments=form.cleaned_data["comments"]
            )
        else:
            services.case_return(case=case, by=request.user, comments=form.cleaned_data["comments"])
    except (services.NotReadyToPublish, StatusChangeRefused) as problem:
        messages.error(request, f"Case {case.number} unchanged: {problem}")
    else:
        # The admin capitalises each message's first letter: a case number must not open one.
        outcome = "published" if case.status == Case.Status.PUBLISHED else "returned to its authors as a draft"
        messages.info(request, f"Case {case.number} is {outcome}.")
    return HttpResponseRedirect(reverse("admin:cases_case_review_queue"))
