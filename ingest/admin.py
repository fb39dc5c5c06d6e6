"""The DICOM receiver's routes in the authoring screen: which called AE title makes drafts for which author.

Editors (and superusers) hold the model's permissions (``accounts.roles``); faculty see their inbox instead."""

from django.contrib import admin
from django.contrib.auth import get_user_model

from accounts.roles import EDITOR, FACULTY

from .models import ReceiverRoute


@admin.register(ReceiverRoute)
class ReceiverRouteAdmin(admin.ModelAdmin):
    list_display = ["ae_title", "author", "active", "destination", "created"]
    list_select_related = ["author", "destination"]
    list_filter = ["active"]
    search_fields = ["ae_title", "author__username", "author__last_name"]
    fields = ["ae_title", "author", "active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            kwargs["queryset"] = get_user_model().objects.filter(groups__name__in=[FACULTY, EDITOR]).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
