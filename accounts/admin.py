"""The authoring screen for accounts: editors invite residents."""

from django.contrib import admin, messages
from django.utils import formats
from django.utils.html import format_html

from . import services
from .models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Editors add invitations (saving e-mails the link); an invitation is never edited, only withdrawn."""

    list_display = ["email", "state", "created_by", "created", "expires"]
    list_select_related = ["created_by"]
    search_fields = ["email"]
    date_hierarchy = "created"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email"]
        return ["email", "state", "signup_link", "created_by", "created", "expires", "used_at", "used_by"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="State")
    def state(self, obj: Invitation) -> str:
        if obj.used_at:
            return "Used"
        return "Open" if obj.is_usable() else "Expired"

    @admin.display(description="Sign-up link")
    def signup_link(self, obj: Invitation) -> str:
        if not obj.is_usable():
            return "—"
        return format_html("<code>{}</code>", obj.get_absolute_url())

    def save_model(self, request, obj, form, change):
        try:
            invitation = services.invitation_create(
                email=form.cleaned_data["email"], created_by=request.user, site_url=request.build_absolute_uri("/")
            )
        except services.InvitationNotSent as problem:
            invitation = problem.invitation
            link = services.invitation_url(invitation=invitation, site_url=request.build_absolute_uri("/"))
            self.message_user(
                request,
                f"The invitation is saved but the e-mail to {invitation.email} could not be sent. "
                f"Send this link yourself: {link}",
                messages.WARNING,
            )
        else:
            until = formats.date_format(invitation.expires, "DATE_FORMAT")
            self.message_user(request, f"Invitation e-mailed to {invitation.email}; the link works until {until}.")
        # The admin goes on with the object it built (log entry, redirect): make it the one the service saved.
        for field in Invitation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(invitation, field.attname))
        obj._state.adding = False
