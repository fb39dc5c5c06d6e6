"""Editors invite residents from the authoring screen; nobody else may."""

import re
import smtplib
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Invitation
from accounts.tests.factories import make_invitation

pytestmark = pytest.mark.django_db

ADD = reverse("admin:accounts_invitation_add")


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_editor_invites_and_the_invited_person_signs_up(editor):
    response = as_user(editor).post(ADD, {"email": "new.resident@example.org"}, follow=True)
    assert "Invitation e-mailed to new.resident@example.org" in response.content.decode()
    invitation = Invitation.objects.get()
    assert invitation.created_by == editor
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/signup/\S+/)", message.body).group(1)
    assert link == invitation.get_absolute_url()
    account = {"username": "invited", "display_name": "Dr Invited", "training_level": "pgy1"}
    account |= {"password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"}
    assert Client().post(link, account).status_code == 302
    user = get_user_model().objects.get(username="invited")
    assert user.email == "new.resident@example.org" and user.groups.get().name == "resident"
    assert Client().post(link, account | {"username": "again"}).status_code == 410


@pytest.mark.parametrize(("role", "status"), [("faculty", 403), ("resident", 302)])
def test_faculty_and_residents_cannot_invite(request, role, status):
    client = as_user(request.getfixturevalue(role))
    assert client.get(ADD).status_code == status
    assert client.post(ADD, {"email": "x@example.org"}).status_code == status
    assert not Invitation.objects.exists() and mail.outbox == []


def test_faculty_do_not_see_the_invitations(faculty):
    make_invitation()
    assert as_user(faculty).get(reverse("admin:accounts_invitation_changelist")).status_code == 403


def test_editor_sees_invitations_read_only_and_may_withdraw_one(editor):
    invitation = make_invitation(created_by=editor)
    client = as_user(editor)
    assert invitation.email in client.get(reverse("admin:accounts_invitation_changelist")).content.decode()
    page = client.get(reverse("admin:accounts_invitation_change", args=[invitation.pk])).content.decode()
    assert invitation.get_absolute_url() in page and 'name="email"' not in page
    client.post(reverse("admin:accounts_invitation_delete", args=[invitation.pk]), {"post": "yes"})
    assert not Invitation.objects.exists()


def test_a_refused_e_mail_keeps_the_invitation_and_shows_the_link(editor):
    with mock.patch("accounts.services.send_mail", side_effect=smtplib.SMTPException("down")):
        response = as_user(editor).post(ADD, {"email": "x@example.org"}, follow=True)
    invitation = Invitation.objects.get()
    text = response.content.decode()
    assert "could not be sent" in text and f"http://testserver{invitation.get_absolute_url()}" in text


def test_the_user_admin_shows_and_edits_each_profile(admin_client):
    from accounts.services import profile_update

    user = get_user_model().objects.create_user("pgy2-t", email="pgy2@example.org")
    profile_update(user=user, display_name="Dr Second Year", training_level="pgy2")
    listing = admin_client.get(reverse("admin:auth_user_changelist"), {"q": "Second Year"}).content.decode()
    assert "Dr Second Year" in listing and "PGY-2" in listing
    change = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="profile-0-display_name"' in page and "Dr Second Year" in page


def test_the_user_list_takes_the_same_queries_however_many_users(admin_client, django_assert_max_num_queries):
    from accounts.services import profile_update

    for number in range(12):
        user = get_user_model().objects.create_user(f"many-{number}")
        profile_update(user=user, display_name=f"Dr Many {number}", training_level="pgy1")
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:auth_user_changelist")).status_code == 200
