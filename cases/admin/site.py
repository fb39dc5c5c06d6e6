"""The admin's "view on site" link, opened only for what the admin shows this user."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404


def view_on_site(request, content_type_id: int, object_id: str):
    """Open an object's page from the admin, as Django's shortcut does, only if the admin would show it to this
    user: the shortcut would otherwise name a colleague's draft (its number is in the address it redirects to)."""
    content_type = get_object_or_404(ContentType, pk=content_type_id)
    model = content_type.model_class()
    if model is None or not admin.site.is_registered(model):
        raise Http404
    model_admin = admin.site.get_model_admin(model)
    try:
        obj = model_admin.get_queryset(request).filter(pk=unquote(object_id)).first()
    except (ValueError, ValidationError):
        obj = None
    if obj is None or not (
        model_admin.has_view_permission(request, obj) or model_admin.has_change_permission(request, obj)
    ):
        raise Http404
    return shortcut(request, content_type_id, object_id)
