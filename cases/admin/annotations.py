"""The annotation editor's JSON API: an image's annotations, read and replaced whole (admin/js/annotate.js)."""

import logging

from django.contrib import admin
from django.http import Http404, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404

from .. import services
from ..forms import AnnotationSetForm
from ..models import Image, Series
from ..selectors import annotation_data
from .access import STAGES_LOCKED

logger = logging.getLogger(__name__)


def image_annotations_view(request, pk: int):
    """Answer an image's annotations as JSON to the editor; replace them all with the posted ones.

    Who may read or write them is what the stage screen allows for the image's stage.
    """
    image = get_object_or_404(Image.objects.select_related("series__case"), pk=pk)
    stage_admin = admin.site.get_model_admin(Series)
    if not stage_admin.has_view_permission(request, image.series):
        raise Http404
    if request.method == "POST":
        if not stage_admin.has_change_permission(request, image.series):
            return HttpResponseForbidden(STAGES_LOCKED, content_type="text/plain; charset=utf-8")
        form = AnnotationSetForm({"body": request.body.decode("utf-8", errors="replace")})
        if not form.is_valid():
            message = " ".join(form.errors["body"])
            logger.warning("Refused annotations for image %s from user %s: %r", image.pk, request.user.pk, message)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        services.image_set_annotations(image=image, annotations=form.cleaned_data["body"])
    annotations = [annotation_data(mark) | {"after_reveal": mark.after_reveal} for mark in image.annotations.all()]
    return JsonResponse({"annotations": annotations})
