"""Account pages: your profile, and sign-up by invitation or, where the site allows it, openly."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import services
from .forms import ProfileForm, SignUpForm
from .models import Invitation, Profile

BACKEND = "accounts.backends.ProfileModelBackend"


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
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_sign_up(
                username=data["username"],
                password=data["password1"],
                email=data["email"],
                display_name=data["display_name"],
                training_level=data["training_level"],
                invitation=invitation,
            )
        except services.InvitationUnusable:
            return _refused(request, "used", status=410)
        login(request, user, backend=BACKEND)
        messages.success(request, f"Welcome, {data['display_name']}. Your account is ready.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup_form.html", {"form": form, "invitation": invitation})


def _refused(request, reason: str, *, status: int):
    return render(request, "accounts/signup_refused.html", {"reason": reason}, status=status)
