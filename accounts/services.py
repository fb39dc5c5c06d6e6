"""Writes on users, their roles and profiles, and sign-up invitations."""

import logging
import secrets
import smtplib
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import tokens
from .models import Invitation, Profile
from .roles import EDITOR, FACULTY, RESIDENT, STAFF_GROUPS, groups_sync

INVITATION_LIFETIME = timedelta(days=14)

logger = logging.getLogger(__name__)


class InvitationUnusable(Exception):
    """The invitation was used already, has expired, or does not exist."""


class InvitationNotSent(Exception):
    """The invitation is saved but the mail server refused its e-mail; ``invitation`` is the one saved."""

    def __init__(self, invitation: Invitation):
        super().__init__(f"The e-mail to {invitation.email} could not be sent.")
        self.invitation = invitation


class EmailNotSent(Exception):
    """The mail server refused the e-mail; nothing was changed."""


class ActivationRefused(Exception):
    """The password given to activate an account is not the one it was signed up with."""


class EmailTaken(Exception):
    """Another account uses this e-mail address."""


DEMO_ACCOUNTS = [
    # username, password, role, display name, e-mail (example.org is reserved: it never reaches a real person)
    ("resident", "resident", RESIDENT, "Riley Resident", "resident@example.org"),
    ("faculty", "faculty", FACULTY, "Dr Fay Faculty", "faculty@example.org"),
    ("faculty2", "faculty2", FACULTY, "Dr Sam Second", "faculty2@example.org"),
    ("editor", "editor", EDITOR, "Dr Eddie Editor", "editor@example.org"),
]


@transaction.atomic
def user_set_role(*, user, role: str) -> None:
    """Put the user in exactly one role group; faculty and editors may use the authoring screen."""
    user.groups.set([Group.objects.get(name=role)])
    user.is_staff = role in STAFF_GROUPS
    user.save(update_fields=["is_staff"])


@transaction.atomic
def demo_accounts_ensure() -> dict:
    """Create the demo accounts that are missing, give those without an e-mail address theirs; return them."""
    groups_sync(group_model=Group, permission_model=Permission)
    User = get_user_model()
    users = {}
    for username, password, role, display_name, email in DEMO_ACCOUNTS:
        first_name, _, last_name = display_name.rpartition(" ")
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": last_name}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user_set_role(user=user, role=role)
        # Accounts made before demo addresses existed get theirs; an address someone set stays.
        if not user.email and not User.objects.filter(email__iexact=email).exists():
            user.email = email
            user.save(update_fields=["email"])
        users[username] = user
    return users


@transaction.atomic
def profile_ensure(*, user: AbstractBaseUser) -> Profile:
    """Return the user's profile, creating an empty one the first time."""
    profile, _ = Profile.objects.get_or_create(user=user)
    user.profile = profile
    return profile


@transaction.atomic
def profile_update(*, user: AbstractBaseUser, display_name: str, training_level: str) -> Profile:
    """Set the name shown for the user and their training level."""
    profile = profile_ensure(user=user)
    profile.display_name = display_name
    profile.training_level = training_level
    profile.full_clean(exclude=["user"])
    profile.save(update_fields=["display_name", "training_level"])
    return profile


def user_login_lock_lift(*, user: AbstractBaseUser) -> int:
    """Forget the failed logins to this account from every address (its owner proved it by a reset link)."""
    return axes_reset(username=user.get_username())


def email_in_use(*, email: str, exclude: AbstractBaseUser | None = None) -> bool:
    """Whether an account (but ``exclude``) has this address, whatever its case."""
    users = get_user_model()._default_manager.filter(email__iexact=email)
    return users.exclude(pk=exclude.pk).exists() if exclude is not None else users.exists()


def email_change_request(*, user: AbstractBaseUser, email: str, site_url: str) -> None:
    """E-mail the new address a link to confirm it; the account keeps its address until the link is used."""
    token = tokens.email_change_token(user=user, email=email)
    context = {
        "user": user,
        "email": email,
        "confirm_url": site_url.rstrip("/") + reverse("accounts:email-change-confirm", args=[token]),
        "lifetime_days": tokens.LINK_LIFETIME.days,
    }
    _send(
        subject="Confirm your new e-mail address", template="accounts/email_change_email.txt", context=context, to=email
    )


@transaction.atomic
def user_email_change(*, user: AbstractBaseUser, change: tokens.EmailChange) -> AbstractBaseUser:
    """Give the user the address a link confirmed, and tell the old address once it is saved.

    Raises ``LinkInvalid`` when the account's address is no longer the one the link was made for (the link was
    used, or another change came first), ``EmailTaken`` when another account has the address by now.
    """
    user = get_user_model()._default_manager.select_for_update().get(pk=user.pk)
    if user.pk != change.user_id or user.email != change.old:
        raise tokens.LinkInvalid("This link was used already, or the address changed since it was sent.")
    if email_in_use(email=change.new, exclude=user):
        raise EmailTaken(change.new)
    user.email = change.new
    user.save(update_fields=["email"])
    if change.old:
        context = {"user": user, "old": change.old, "new": change.new}
        transaction.on_commit(
            lambda: _send_or_log(
                subject="Your e-mail address was changed",
                template="accounts/email_changed_email.txt",
                context=context,
                to=change.old,
            )
        )
    return user


def _send(*, subject: str, template: str, context: dict, to: str) -> None:
    try:
        send_mail(subject, render_to_string(template, context), settings.DEFAULT_FROM_EMAIL, [to])
    except (smtplib.SMTPException, OSError) as error:
        raise EmailNotSent(subject) from error


def _send_or_log(**kwargs) -> None:
    try:
        _send(**kwargs)
    except EmailNotSent:
        logger.exception("Could not send an e-mail (%s)", kwargs["subject"])


def invitation_create(*, email: str, created_by: AbstractBaseUser, site_url: str) -> Invitation:
    """Create an invitation to sign up as a resident and e-mail its link (``site_url`` is the site's root URL).

    The invitation is saved before the e-mail goes out, so a mail server that refuses it leaves the
    invitation in place for the editor to send the link by hand.
    """
    now = timezone.now()
    invitation = Invitation.objects.create(
        email=email,
        token=secrets.token_urlsafe(32),
        created_by=created_by,
        created=now,
        expires=now + INVITATION_LIFETIME,
    )
    context = {
        "invitation": invitation,
        "inviter": created_by,
        "signup_url": invitation_url(invitation=invitation, site_url=site_url),
        "site_url": site_url,
    }
    subject = render_to_string("accounts/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/invitation_email.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    except (smtplib.SMTPException, OSError) as error:
        raise InvitationNotSent(invitation) from error
    return invitation


def invitation_url(*, invitation: Invitation, site_url: str) -> str:
    """Return the absolute sign-up link of an invitation."""
    return site_url.rstrip("/") + invitation.get_absolute_url()


def user_sign_up(
    *,
    username: str,
    password: str,
    email: str,
    display_name: str,
    training_level: str,
    invitation: Invitation | None = None,
    active: bool = True,
) -> AbstractBaseUser:
    """Create a resident account with its profile, using up the invitation when there is one.

    An inactive account (``active=False``) cannot log in until ``user_activate``.
    """
    # Hashing is slow on purpose: done before the transaction, so no one waits on the write lock meanwhile.
    return _user_sign_up_hashed(
        username=username,
        password_hash=make_password(password),
        email=email,
        display_name=display_name,
        training_level=training_level,
        invitation=invitation,
        active=active,
    )


@transaction.atomic
def _user_sign_up_hashed(
    *,
    username: str,
    password_hash: str,
    email: str,
    display_name: str,
    training_level: str,
    invitation: Invitation | None,
    active: bool,
) -> AbstractBaseUser:
    if invitation is not None:
        # Lock the row: two sign-ups racing on one link must not both succeed.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_usable():
            raise InvitationUnusable("This invitation has already been used or has expired.")
    User = get_user_model()
    user = User(
        username=User.normalize_username(username),
        email=User.objects.normalize_email(email),
        password=password_hash,
        is_active=active,
    )
    user.save()
    user_set_role(user=user, role=RESIDENT)
    Profile.objects.create(user=user, display_name=display_name, training_level=training_level)
    if invitation is not None:
        invitation.used_at = timezone.now()
        invitation.used_by = user
        invitation.save(update_fields=["used_at", "used_by"])
    return user


def user_sign_up_open(
    *, username: str, password: str, email: str, display_name: str, training_level: str, site_url: str
) -> AbstractBaseUser | None:
    """Sign up without an invitation: an inactive account, and a link to its address to activate it.

    When an account has the address already, nothing is created and its owner gets an e-mail instead (with a
    new activation link if that account still waits for one): the visitor sees the same either way, so the
    form does not tell who has an account. Returns the new account, or None.
    """
    # Hashed before the transaction (see user_sign_up), and whether or not an account is created: an address
    # that has one gets its answer as late as a new one.
    return _user_sign_up_open_hashed(
        username=username,
        password_hash=make_password(password),
        email=email,
        display_name=display_name,
        training_level=training_level,
        site_url=site_url,
    )


@transaction.atomic
def _user_sign_up_open_hashed(
    *, username: str, password_hash: str, email: str, display_name: str, training_level: str, site_url: str
) -> AbstractBaseUser | None:
    User = get_user_model()
    owner = User._default_manager.filter(email__iexact=email).select_related("profile").first()
    if owner is not None:
        context = {"user": owner, "site_url": site_url.rstrip("/"), "reset_url": reverse("password_reset")}
        if _awaits_activation(owner):
            context["activation_url"] = activation_url(user=owner, site_url=site_url)
        transaction.on_commit(
            lambda: _send_or_log(
                subject="Someone tried to sign up with your address",
                template="accounts/signup_existing_email.txt",
                context=context,
                to=owner.email,
            )
        )
        return None
    user = _user_sign_up_hashed(
        username=username,
        password_hash=password_hash,
        email=email,
        display_name=display_name,
        training_level=training_level,
        invitation=None,
        active=False,
    )
    context = {
        "user": user,
        "activation_url": activation_url(user=user, site_url=site_url),
        "lifetime_days": tokens.LINK_LIFETIME.days,
    }
    transaction.on_commit(
        lambda: _send_or_log(
            subject="Activate your account", template="accounts/signup_activation_email.txt", context=context, to=email
        )
    )
    return user


def activation_url(*, user: AbstractBaseUser, site_url: str) -> str:
    """Return the absolute link that activates an account signed up openly."""
    return site_url.rstrip("/") + reverse("accounts:signup-activate", args=[tokens.activation_token(user=user)])


def _awaits_activation(user: AbstractBaseUser) -> bool:
    """Whether the account was signed up and never activated (not one an administrator switched off)."""
    return not user.is_active and user.last_login is None


def user_activate(*, user_id: int, password: str) -> AbstractBaseUser:
    """Activate an account signed up openly, once, for the person who chose its password.

    The link proves the address; the password proves that its reader also set the account up, so no one can
    sign up with another person's address and have its owner activate an account whose password they know.
    Raises ``LinkInvalid`` when the account is active or was switched off, ``ActivationRefused`` for another
    password.
    """
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None or not _awaits_activation(user):
        raise tokens.LinkInvalid("This account is active already, or no longer exists.")
    # Hashing is slow on purpose: checked before the transaction, so no one waits on the write lock meanwhile.
    if not user.check_password(password):
        raise ActivationRefused(
            "This is not the password the account was signed up with. If you did not sign up with this address, "
            "someone else did: ask the site's administrator to remove that account."
        )
    return _user_activate(user_id=user_id)


@transaction.atomic
def _user_activate(*, user_id: int) -> AbstractBaseUser:
    user = get_user_model()._default_manager.select_for_update().filter(pk=user_id).first()
    if user is None or not _awaits_activation(user):
        raise tokens.LinkInvalid("This account is active already, or no longer exists.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user
