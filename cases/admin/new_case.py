"""A case started from its images: the add-case page's DICOM upload creates a draft (placeholder text for what
the author writes next), queues the import and opens the case's page, where the import's status shows."""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse

from ingest.forms import DicomUploadForm
from ingest.upload import ingest_upload

from .. import drafts
from ..models import Case
from .access import page_context

logger = logging.getLogger(__name__)


class CaseFromStudyForm(DicomUploadForm):
    """The study's files, and the one thing a draft needs that no placeholder can stand for."""

    region = forms.ChoiceField(
        choices=[("", "---------"), *Case._meta.get_field("region").choices],
        help_text="Where the case lists it; the rest you write once the images are in.",
    )
    field_order = ["files", "folder", "region"]


def case_from_study_view(request):
    """Start a case from a DICOM study: a draft with placeholder text, its import queued (POST); the form (GET)."""
    if not admin.site.get_model_admin(Case).has_add_permission(request):
        raise PermissionDenied
    form = CaseFromStudyForm(request.POST or None, request.FILES or None, prefix="study")
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():  # no draft without its import, nor an import without its draft
            case = drafts.case_create_draft(by=request.user, region=form.cleaned_data["region"])
            job, names = ingest_upload(case=case, uploads=form.uploads(), user=request.user)
        messages.success(
            request,
            f"Case {case.number} created as a draft from {len(names)} file{pluralize(len(names))}. "
            "Write over the [TO WRITE] text while the images are imported.",
        )
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
    if request.method == "POST":
        logger.info("A case from a study was refused for user %s: %s", request.user.pk, list(form.errors))
    context = page_context(request, title="Start a case from a DICOM study", form=form)
    return TemplateResponse(request, "admin/cases/case/case_from_study.html", context)
