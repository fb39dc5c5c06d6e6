"""What every screen of the authoring screen shares: who may edit which case, the page context, stored text."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models

from ..forms import StoredTextField
from ..models import Case, Series

STAGES_LOCKED = (
    "The stages and images of a published case change only through an editor: ask one to return the case to "
    "draft, or to make the change."
)

# The case and its parts keep a history: their text fields store what was typed with the stored line ends.
STORED_TEXT = {models.TextField: {"form_class": StoredTextField}}


class OwnCaseMixin:
    """Limit an admin to the cases the user may edit; ``case_path`` leads from the row to its case."""

    case_path = "case"

    def get_queryset(self, request):
        editable = Case.objects.editable_by(request.user)
        return super().get_queryset(request).filter(**{f"{self.case_path}__in": editable})

    def _may_edit(self, request, obj) -> bool:
        if obj is None:
            return True
        case = obj
        for step in self.case_path.split("__"):
            case = getattr(case, step)
        return case.is_editable_by(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_edit(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Case:
            kwargs["queryset"] = Case.objects.editable_by(request.user)
        elif db_field.related_model is Series:
            kwargs["queryset"] = Series.objects.filter(case__in=Case.objects.editable_by(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def editable_case(request, pk: int) -> Case:
    """Return case ``pk`` if the case screen lets this user change it; refuse otherwise."""
    case_admin = admin.site.get_model_admin(Case)
    case = case_admin.get_queryset(request).filter(pk=pk).first()
    if case is None or not case_admin.has_change_permission(request, case):
        raise PermissionDenied
    return case


def page_context(request, *, title: str, **values) -> dict:
    """Return the context of an authoring page about cases: the admin's frame, its title and ``values``."""
    return {**admin.site.each_context(request), "opts": Case._meta, "title": title, **values}
