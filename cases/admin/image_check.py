"""The authoring screen's check page: a case's held images and unconfirmed stages on one page."""

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse

from .. import checks, workflow
from ..forms import ImageCheckForm
from ..models import Case
from ..selectors import case_stage_problems, case_stages_to_check
from .access import STAGES_LOCKED

logger = logging.getLogger(__name__)


def image_check_view(request, pk: int):
    """Show every held image and unconfirmed stage of a case; confirm clean, mask or delete images and accept
    labels, several at once (POST)."""
    case = Case.objects.editable_by(request.user).filter(pk=pk).first()
    if case is None:
        raise PermissionDenied
    if not workflow.edits_apply_directly(user=request.user, case=case):
        # What this page clears or masks reaches readers at once: on a published case that is an editor's call.
        messages.error(request, STAGES_LOCKED)
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
    stages = case_stages_to_check(case)
    problems = {problem.series_id: problem for problem in case_stage_problems(case)}
    held = []
    for series in stages:
        series.problem = problems.get(series.pk)
        for image in series.check_images:
            image.series = series  # the service checks the case of each: no query per image
            if image.held_for_review:
                held.append(image)
    unconfirmed = [series for series in stages if not series.label_confirmed]
    form = ImageCheckForm(request.POST or None, held=held, unconfirmed=unconfirmed)
    if request.method == "POST":
        if form.is_valid():
            done = checks.case_apply_checks(
                case=case,
                by=request.user,
                clear=form.cleaned_data["clear_images"],
                masks=form.cleaned_data["masks"],
                labels=form.cleaned_data["label_series"],
                delete=form.cleaned_data["delete_images"],
            )
            messages.success(
                request,
                f"{done.cleared} image(s) confirmed free of identifying text, {done.masked} masked, "
                f"{done.deleted} deleted, {done.labels} stage label(s) confirmed.",
            )
            return HttpResponseRedirect(reverse("admin:cases_case_image_check", args=[case.pk]))
        logger.info("Check page of case %s refused a save from user %s", case.pk, request.user.pk)
    for image in held:
        image.check_field = form[f"check-{image.pk}"]
        image.mask_field = form[f"mask-{image.pk}"]
    context = {
        **admin.site.each_context(request),
        "opts": Case._meta,
        "title": f"Check the images of {case.number}",
        "case": case,
        "stages": stages,
        "held": held,
        "form": form,
    }
    return TemplateResponse(request, "admin/cases/case/image_check.html", context)


def confirm_labels_view(request, pk: int):
    """Confirm the labels of the stages the author saw unconfirmed on the case page, in one action (POST).

    Only the stages listed in the form are confirmed, and only those of a case this user may change: a stage
    imported after the page was shown waits for its own look.
    """
    case = Case.objects.editable_by(request.user).filter(pk=pk).first()
    if case is None:
        raise PermissionDenied
    back = HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
    if not workflow.edits_apply_directly(user=request.user, case=case):
        messages.error(request, STAGES_LOCKED)
        return back
    seen = {int(value) for value in request.POST.getlist("stage") if value.isascii() and value.isdigit()}
    stages = [stage for stage in case.series.filter(label_confirmed=False) if stage.pk in seen]
    done = checks.case_apply_checks(case=case, by=request.user, clear=[], masks=[], labels=stages)
    messages.success(request, f"{done.labels} stage label{pluralize(done.labels)} confirmed.")
    return back
