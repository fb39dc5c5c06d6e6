"""The authoring screen for accounts: editors invite residents; administrators see each user's profile."""

from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.utils import formats
from django.utils.html import format_html

from . import services
from .models import Invitation, Profile
from .names import display_name

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["display_name", "training_level"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin with the profile beside the account: the name shown, the training level, the roles."""

    inlines = [ProfileInline]
    list_display = ["username", "shown_name", "training_level", "roles", "email", "is_active", "last_login"]
    list_select_related = ["profile"]
    list_filter = ["groups", "profile__training_level", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "profile__display_name", "first_name", "last_name", "email"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Name shown", ordering="profile__display_name")
    def shown_name(self, user) -> str:
        return display_name(user)

    @admin.display(description="Training level", ordering="profile__training_level")
    def training_level(self, user) -> str:
        profile = getattr(user, "profile", None)
        return profile.get_training_level_display() if profile else ""

    @admin.display(description="Roles")
    def roles(self, user) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))


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

    def save_form(self, request, form, change):
        """Make the invitation through the service (token, expiry, e-mail): the admin goes on with the saved row
        (log entry, redirect) in place of the form's unsaved one."""
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
        return invitation

    def save_model(self, request, obj, form, change):
        """Nothing left to save: ``save_form`` saved the invitation."""

    def save_related(self, request, form, formsets, change):
        """An invitation has no related rows (and its form was never saved, so it has no ``save_m2m``)."""
