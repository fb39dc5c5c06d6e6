"""Account pages: your profile, sign-up by invitation or, where the site allows it, openly; password reset."""

import logging
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import limits, services, tokens
from .forms import ActivationForm, EmailChangeForm, ProfileForm, SignUpForm
from .models import Invitation, Profile
from .names import display_name

BACKEND = "accounts.backends.ProfileModelBackend"

logger = logging.getLogger(__name__)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def profile(request):
    # A copy, not request.user.profile: a form that fails must not change the name the header shows.
    current = Profile.objects.filter(user=request.user).first() or Profile(user_id=request.user.pk)
    form = ProfileForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile_form.html", {"form": form})


# Shown when the counts of these requests cannot be kept (Redis down): the visitor is told to come back soon.
UNAVAILABLE = "The site cannot take this request just now. Nothing was sent or saved: try again in a few minutes."


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def email_change(request):
    form = EmailChangeForm(request.POST or None, user=request.user)
    refused = _email_change_limited(request, form) if request.method == "POST" else None
    if refused is not None:
        return refused
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            services.email_change_request(user=request.user, email=email, site_url=request.build_absolute_uri("/"))
        except services.EmailNotSent:
            logger.exception("Could not send the e-mail change link for user %s", request.user.pk)
            form.add_error(None, "The e-mail could not be sent just now. Try again in a few minutes.")
            return render(
                request, "accounts/email_change_form.html", {"form": form}, status=HTTPStatus.SERVICE_UNAVAILABLE
            )
        messages.success(
            request,
            f"We sent a link to {email}. Open it within {tokens.LINK_LIFETIME.days} days, logged in as "
            f"{request.user.get_username()}, to make it your address; until then your address stays as it is.",
        )
        return redirect("accounts:profile")
    return render(request, "accounts/email_change_form.html", {"form": form})


def _email_change_limited(request, form):
    """Count an address change; refuse it (a response) when over the limit or when it cannot be counted."""
    try:
        limited = limits.email_change_over_limit(request)
    except limits.CountsUnavailable:
        return _unavailable(request, "accounts/email_change_form.html", {"form": form})
    if not limited:
        return None
    logger.warning("Refused an e-mail change for user %s: too many requests", request.user.pk)
    form.add_error(None, "Too many address changes were asked for in the last hour. Wait an hour and try again.")
    return render(request, "accounts/email_change_form.html", {"form": form}, status=HTTPStatus.TOO_MANY_REQUESTS)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def email_change_confirm(request, token: str):
    """Show the change a link confirms (GET), make it (POST): logged in as the account that asked for it."""
    try:
        change = tokens.email_change_read(token=token)
    except tokens.LinkInvalid:
        return _email_change_refused(request, "invalid", status=HTTPStatus.BAD_REQUEST)
    if change.user_id != request.user.pk:
        return _email_change_refused(request, "other-account", status=HTTPStatus.FORBIDDEN)
    if request.user.email != change.old:
        return _email_change_refused(request, "used", status=HTTPStatus.GONE)
    if request.method == "POST":
        try:
            services.user_email_change(user=request.user, change=change)
        except tokens.LinkInvalid:
            return _email_change_refused(request, "used", status=HTTPStatus.GONE)
        except services.EmailTaken:
            return _email_change_refused(request, "taken", status=HTTPStatus.CONFLICT)
        messages.success(request, f"Your e-mail address is now {change.new}.")
        return redirect("accounts:profile")
    return render(request, "accounts/email_change_confirm.html", {"change": change})


def _email_change_refused(request, reason: str, *, status: int):
    logger.warning("Refused an e-mail change link for user %s: %s", request.user.pk, reason)
    return render(request, "accounts/email_change_refused.html", {"reason": reason}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if not settings.TEACHINGFILE_OPEN_SIGNUP:
        raise Http404("Sign-up is by invitation only.")
    return _sign_up(request, invitation=None)


@require_http_methods(["GET", "HEAD", "POST"])
def signup_invited(request, token: str):
    invitation = Invitation.objects.filter(token=token).first()
    if invitation is None:
        return _refused(request, "unknown", status=404)
    if not invitation.is_usable():
        return _refused(request, "used" if invitation.used_at else "expired", status=410)
    return _sign_up(request, invitation=invitation)


def _sign_up(request, *, invitation: Invitation | None):
    if request.user.is_authenticated:
        messages.info(request, "You are logged in already. Log out first to create another account.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None, invited_email=invitation.email if invitation else None)
    context = {"form": form, "invitation": invitation}
    if request.method != "POST":
        return render(request, "accounts/signup_form.html", context)
    try:
        if limits.signups_exhausted(request):
            logger.warning("Refused a sign-up from %s: too many from this client", limits.client_address(request))
            form.add_error(None, "Too many sign-ups were tried from your network in the last hour. Try again later.")
            return render(request, "accounts/signup_form.html", context, status=HTTPStatus.TOO_MANY_REQUESTS)
        # Every attempt counts, refused ones too: probing which usernames exist costs as much as signing up.
        limits.signup_count(request)
    except limits.CountsUnavailable:
        return _unavailable(request, "accounts/signup_form.html", context)
    if not form.is_valid():
        logger.info("Refused a sign-up from %s: %s", limits.client_address(request), ", ".join(form.errors))
        return render(request, "accounts/signup_form.html", context)
    data = form.cleaned_data
    account = {
        "username": data["username"],
        "password": data["password1"],
        "email": data["email"],
        "display_name": data["display_name"],
        "training_level": data["training_level"],
    }
    if invitation is None:
        services.user_sign_up_open(**account, site_url=request.build_absolute_uri("/"))
        return render(request, "accounts/signup_done.html", {"email": data["email"]})
    try:
        user = services.user_sign_up(**account, invitation=invitation)
    except services.InvitationUnusable:
        return _refused(request, "used", status=410)
    login(request, user, backend=BACKEND)
    messages.success(request, f"Welcome, {data['display_name']}. Your account is ready.")
    return redirect(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "HEAD", "POST"])
def signup_activate(request, token: str):
    """Show the activation of an openly signed-up account (GET), activate it and log in (POST)."""
    if not settings.TEACHINGFILE_OPEN_SIGNUP:
        raise Http404("Sign-up is by invitation only.")
    if request.user.is_authenticated:
        messages.info(request, "You are logged in already. Log out first to activate another account.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    try:
        user_id = tokens.activation_read(token=token)
    except tokens.LinkInvalid:
        logger.warning("Refused an activation link: not valid or expired")
        return _refused(request, "activation-invalid", status=HTTPStatus.BAD_REQUEST)
    form = ActivationForm(request.POST or None)
    if request.method != "POST":
        return render(request, "accounts/signup_activate.html", {"form": form})
    if not form.is_valid():
        return render(request, "accounts/signup_activate.html", {"form": form}, status=HTTPStatus.BAD_REQUEST)
    try:
        user = services.user_activate(user_id=user_id, password=form.cleaned_data["password"])
    except tokens.LinkInvalid:
        logger.warning("Refused an activation link for user %s: active already or switched off", user_id)
        return _refused(request, "activated", status=HTTPStatus.GONE)
    except services.ActivationRefused as problem:
        logger.warning("Refused an activation for user %s: not the password it was signed up with", user_id)
        form.add_error("password", str(problem))
        return render(request, "accounts/signup_activate.html", {"form": form}, status=HTTPStatus.BAD_REQUEST)
    login(request, user, backend=BACKEND)
    messages.success(request, f"Welcome, {display_name(user)}. Your account is ready.")
    return redirect(settings.LOGIN_REDIRECT_URL)


def _unavailable(request, template: str, context: dict):
    """Refuse a counted request politely while the counts cannot be kept: 503, the form as sent, come back soon."""
    context["form"].add_error(None, UNAVAILABLE)
    response = render(request, template, context, status=HTTPStatus.SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(limits.RETRY_AFTER_SECONDS)
    return response


def _refused(request, reason: str, *, status: int):
    return render(request, "accounts/signup_refused.html", {"reason": reason}, status=status)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, sending plain text, and refusing to mail an address or serve a client too often."""

    email_template_name = "registration/password_reset_email.txt"

    def post(self, request, *args, **kwargs):
        try:
            limited = limits.reset_over_limit(request)
        except limits.CountsUnavailable:
            return _unavailable(request, self.template_name, self.get_context_data(form=self.get_form()))
        if not limited:
            return super().post(request, *args, **kwargs)
        logger.warning("Refused a password reset from %s: too many requests", limits.client_address(request))
        form = self.get_form()
        form.add_error(None, "Too many reset e-mails were asked for in the last hour. Wait an hour and try again.")
        return self.render_to_response(self.get_context_data(form=form), status=HTTPStatus.TOO_MANY_REQUESTS)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's choice of a new password by reset link; setting it lifts the login lock on the account."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_login_lock_lift(user=form.user)
        logger.info("Lifted the login lock on user %s after a password reset", form.user.pk)
        return response
