"""Writes on profiles, invitations and sign-up."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Profile, TrainingLevel
from accounts.roles import RESIDENT
from accounts.tests.factories import make_invitation

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "username": "newres",
    "password": "a-long-pass-phrase-42",
    "email": "new.resident@example.org",
    "display_name": "Dr New Resident",
    "training_level": TrainingLevel.PGY2,
}


def test_profile_is_created_on_demand_once(resident):
    first = services.profile_ensure(user=resident)
    assert services.profile_ensure(user=resident) == first
    assert Profile.objects.filter(user=resident).count() == 1


def test_profile_update_sets_name_and_level(resident):
    profile = services.profile_update(user=resident, display_name="Dr R", training_level=TrainingLevel.FELLOW)
    profile.refresh_from_db()
    assert (profile.display_name, profile.training_level) == ("Dr R", "fellow")


def test_profile_update_refuses_an_over_long_name(resident):
    with pytest.raises(ValidationError):
        services.profile_update(user=resident, display_name="x" * 81, training_level="")


def test_invitation_create_emails_a_link_valid_for_14_days(editor):
    invitation = services.invitation_create(
        email="someone@example.org", created_by=editor, site_url="https://teaching.example.org/"
    )
    assert len(invitation.token) >= 40
    assert invitation.expires - invitation.created == timedelta(days=14)
    [message] = mail.outbox
    assert message.to == ["someone@example.org"]
    assert f"https://teaching.example.org/accounts/signup/{invitation.token}/" in message.body


def test_invitation_kept_when_the_mail_server_refuses(editor):
    with (
        mock.patch("accounts.services.send_mail", side_effect=smtplib.SMTPException("down")),
        pytest.raises(services.InvitationNotSent) as problem,
    ):
        services.invitation_create(email="someone@example.org", created_by=editor, site_url="http://x/")
    assert Invitation.objects.filter(pk=problem.value.invitation.pk).exists()


def test_sign_up_creates_a_resident_with_a_profile_and_uses_the_invitation():
    invitation = make_invitation()
    user = services.user_sign_up(**SIGN_UP, invitation=invitation)
    assert list(user.groups.values_list("name", flat=True)) == [RESIDENT]
    assert not user.is_staff and user.check_password(SIGN_UP["password"])
    assert user.profile.display_name == "Dr New Resident" and user.profile.training_level == "pgy2"
    invitation.refresh_from_db()
    assert invitation.used_at is not None and invitation.used_by == user


@pytest.mark.parametrize(
    "sign_up",
    [
        lambda: services.user_sign_up(**SIGN_UP, invitation=make_invitation()),
        lambda: services.user_sign_up_open(**SIGN_UP, site_url="https://tf.example.org/"),
    ],
    ids=["invited", "open"],
)
def test_sign_up_hashes_the_password_before_its_transaction_takes_the_write_lock(monkeypatch, sign_up):
    """Hashing takes a quarter of a second by design; other writers must not wait on the lock meanwhile."""
    depths = []
    encode = MD5PasswordHasher.encode

    def recording_encode(hasher, password, salt):
        depths.append(len(connection.atomic_blocks))
        return encode(hasher, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", recording_encode)
    outside = len(connection.atomic_blocks)
    user = sign_up()
    assert depths == [outside], "hashed once, outside the sign-up's transaction"
    user.refresh_from_db()
    assert user.check_password(SIGN_UP["password"]) and user.email == SIGN_UP["email"]


def test_an_invitation_works_once():
    invitation = make_invitation()
    services.user_sign_up(**SIGN_UP, invitation=invitation)
    with pytest.raises(services.InvitationUnusable):
        services.user_sign_up(**(SIGN_UP | {"username": "second"}), invitation=invitation)


def test_an_expired_invitation_is_refused():
    created = timezone.now() - timedelta(days=15)
    invitation = make_invitation(created=created, expires=created + timedelta(days=14))
    with pytest.raises(services.InvitationUnusable):
        services.user_sign_up(**SIGN_UP, invitation=invitation)
    assert not Profile.objects.filter(display_name=SIGN_UP["display_name"]).exists()


def test_open_sign_up_needs_no_invitation():
    user = services.user_sign_up(**SIGN_UP)
    assert user.groups.get().name == RESIDENT


def test_demo_accounts_have_example_addresses_set_once_and_kept_when_changed():
    User = get_user_model()
    expected = {"resident": "resident@example.org", "faculty": "faculty@example.org"}
    expected |= {"faculty2": "faculty2@example.org", "editor": "editor@example.org"}
    assert dict(User.objects.filter(username__in=expected).values_list("username", "email")) == expected
    User.objects.filter(username="resident").update(email="")  # a database made before the addresses
    User.objects.filter(username="faculty").update(email="fay@example.net")  # changed by its user
    services.demo_accounts_ensure()
    assert User.objects.get(username="resident").email == "resident@example.org"
    assert User.objects.get(username="faculty").email == "fay@example.net"
