"""Account pages: profile, password change and reset, sign-up, and the login lock."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from accounts.roles import RESIDENT
from accounts.tests.factories import make_invitation
from cases.tests.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "pw-for-tests"  # what make_user sets
NEW_ACCOUNT = {
    "username": "newres",
    "display_name": "Dr New Resident",
    "training_level": "pgy1",
    "email": "open@example.org",
    "password1": "a-long-pass-phrase-42",
    "password2": "a-long-pass-phrase-42",
}


def body(response) -> str:
    return response.content.decode()


# Profile


def test_profile_needs_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and LOGIN in response["Location"]


def test_profile_edit_saves_and_the_header_shows_the_display_name(client, resident):
    client.force_login(resident)
    page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200 and reverse("password_change") in body(page)
    assert not Profile.objects.filter(user=resident).exists(), "a GET writes nothing"
    response = client.post(
        reverse("accounts:profile"), {"display_name": "Dr Riley", "training_level": "pgy3"}, follow=True
    )
    assert "Your profile is saved." in body(response)
    assert re.search(r'class="who"[^>]*>Dr Riley</a>', body(response))
    assert Profile.objects.get(user=resident).training_level == "pgy3"


def test_over_long_display_name_refused_with_a_message(client, resident):
    client.force_login(resident)
    response = client.post(reverse("accounts:profile"), {"display_name": "x" * 81, "training_level": ""})
    assert response.status_code == 200
    assert "at most 80 characters" in body(response)
    assert not Profile.objects.filter(user=resident).exists()


def test_unknown_training_level_refused_and_nothing_changes(client, resident):
    client.force_login(resident)
    response = client.post(reverse("accounts:profile"), {"display_name": "Dr Not Saved", "training_level": "pgy9"})
    assert "Select a valid choice" in body(response)
    assert not re.search(r'class="who"[^>]*>Dr Not Saved<', body(response))


# E-mail address


def ask_for_email_change(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:email-change"), {"email": email, "password": password})


def confirm_link(message) -> str:
    return re.search(r"https?://testserver(/accounts/profile/email/\S+/)", message.body).group(1)


def test_email_change_takes_effect_only_when_the_link_is_confirmed(
    client, resident, django_capture_on_commit_callbacks
):
    resident.email = "old@example.org"
    resident.save()
    client.force_login(resident)
    assert reverse("accounts:email-change") in body(client.get(reverse("accounts:profile")))
    assert client.get(reverse("accounts:email-change")).status_code == 200
    asked = ask_for_email_change(client, "new@example.org")
    assert asked.status_code == 302 and asked["Location"] == reverse("accounts:profile")
    [message] = mail.outbox
    assert message.to == ["new@example.org"] and resident.username in message.body
    link = confirm_link(message)
    page = client.get(link)
    assert page.status_code == 200 and "new@example.org" in body(page)
    resident.refresh_from_db()
    assert resident.email == "old@example.org", "nothing changes before the confirmation, nor on a GET"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(link, follow=True)
    assert "Your e-mail address is now new@example.org." in body(done)
    resident.refresh_from_db()
    assert resident.email == "new@example.org"
    notice = mail.outbox[-1]
    assert notice.to == ["old@example.org"] and "changed from old@example.org to new@example.org" in notice.body
    assert client.post(link).status_code == 410, "a link works once"


def test_email_change_needs_the_password(client, resident):
    client.force_login(resident)
    response = ask_for_email_change(client, "new@example.org", password="not-it")
    assert response.status_code == 200 and "Your password was not right" in body(response)
    assert mail.outbox == []


def test_an_email_change_link_works_only_for_its_account(client, resident, faculty):
    client.force_login(resident)
    ask_for_email_change(client, "new@example.org")
    link = confirm_link(mail.outbox[0])
    assert Client().get(link)["Location"].startswith(LOGIN), "the link needs a login"
    other = Client()
    other.force_login(faculty)
    for response in (other.get(link), other.post(link)):
        assert response.status_code == 403 and "another account" in body(response)
    resident.refresh_from_db()
    faculty.refresh_from_db()
    assert resident.email == "" and faculty.email == ""


def test_the_address_must_still_be_free_when_the_link_is_confirmed(client, resident):
    client.force_login(resident)
    ask_for_email_change(client, "new@example.org")
    make_user("quicker-t", email="NEW@example.org")
    response = client.post(confirm_link(mail.outbox[0]))
    assert response.status_code == 409 and "Another account uses this address" in body(response)
    resident.refresh_from_db()
    assert resident.email == ""


def test_a_tampered_or_expired_email_change_link_is_refused(client, resident, monkeypatch):
    from accounts import tokens

    client.force_login(resident)
    ask_for_email_change(client, "new@example.org")
    link = confirm_link(mail.outbox[0])
    tampered = client.get(link.replace("/email/", "/email/x"))
    assert tampered.status_code == 400 and "This link is not valid" in body(tampered)
    monkeypatch.setattr(tokens, "LINK_LIFETIME", timedelta(seconds=-1))
    assert client.post(link).status_code == 400
    resident.refresh_from_db()
    assert resident.email == ""


def test_email_change_links_are_sent_five_times_an_hour_at_most(client, resident, caplog):
    client.force_login(resident)
    for number in range(5):
        ask_for_email_change(client, f"new{number}@example.org", password="typo" if number == 0 else PASSWORD)
    refused = ask_for_email_change(client, "new5@example.org")
    assert refused.status_code == 429 and "Too many address changes" in body(refused)
    assert len(mail.outbox) == 4
    assert f"Refused an e-mail change for user {resident.pk}: too many requests" in caplog.text


# Password change and reset


def test_password_change(client, resident):
    client.force_login(resident)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "brand-new-phrase-77", "new_password2": "brand-new-phrase-77"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    resident.refresh_from_db()
    assert resident.check_password("brand-new-phrase-77")


def test_login_page_links_password_reset(client):
    assert reverse("password_reset") in body(client.get(LOGIN))


def test_password_reset_by_email_end_to_end(client):
    user = make_user("forgetful-t", email="forgetful@example.org")
    response = client.post(reverse("password_reset"), {"email": "forgetful@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == ["forgetful@example.org"] and "forgetful-t" in message.body
    assert "&#x27;" not in message.body and "<" not in message.body, "plain text, not escaped HTML"
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in body(form_page)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "reset-phrase-9000", "new_password2": "reset-phrase-9000"})
    assert done["Location"] == reverse("password_reset_complete")
    logged_in = Client().post(LOGIN, {"username": "forgetful-t", "password": "reset-phrase-9000"})
    assert logged_in.status_code == 302
    user.refresh_from_db()
    assert user.check_password("reset-phrase-9000")
    assert "This link does not work" in body(client.get(link, follow=True)), "a reset link works once"


def test_a_demo_account_gets_its_reset_email(client):
    client.post(reverse("password_reset"), {"email": "resident@example.org"})
    [message] = mail.outbox
    assert message.to == ["resident@example.org"] and "(resident)" in message.body


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)
    assert "Check your e-mail" in body(response) and mail.outbox == []


def test_the_same_address_gets_three_reset_emails_an_hour_then_a_clear_refusal(client, caplog):
    make_user("forgetful-t", email="forgetful@example.org")
    for spelling in ("forgetful@example.org", " Forgetful@example.org", "FORGETFUL@example.org"):
        assert client.post(reverse("password_reset"), {"email": spelling}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "forgetful@example.org"})
    assert refused.status_code == 429 and "Too many reset e-mails" in body(refused)
    assert len(mail.outbox) == 3
    assert "Refused a password reset from 127.0.0.1" in caplog.text


def test_one_client_gets_ten_reset_requests_an_hour_whatever_the_addresses(client):
    for number in range(10):
        assert client.post(reverse("password_reset"), {"email": f"someone{number}@example.org"}).status_code == 302
    assert client.post(reverse("password_reset"), {"email": "another@example.org"}).status_code == 429
    other_client = Client(REMOTE_ADDR="10.9.9.9")
    assert other_client.post(reverse("password_reset"), {"email": "another@example.org"}).status_code == 302


# Sign-up


def test_invited_sign_up_creates_a_logged_in_resident(client, editor):
    invitation = make_invitation(created_by=editor, email="invited@example.org")
    page = client.get(invitation.get_absolute_url())
    assert page.status_code == 200 and "invited@example.org" in body(page)
    data = NEW_ACCOUNT | {"email": "someone-else@example.org"}  # ignored: the invitation's address is kept
    response = client.post(invitation.get_absolute_url(), data, follow=True)
    user = get_user_model().objects.get(username="newres")
    assert user.email == "invited@example.org"
    assert user.groups.get().name == RESIDENT and user.profile.display_name == "Dr New Resident"
    assert response.context["user"] == user and "Welcome, Dr New Resident" in body(response)


def test_training_level_may_be_left_at_not_given(client):
    invitation = make_invitation()
    response = client.post(invitation.get_absolute_url(), NEW_ACCOUNT | {"training_level": ""})
    assert response.status_code == 302
    assert Profile.objects.get(user__username="newres").training_level == ""


def test_a_used_invitation_is_refused_with_a_message(client):
    invitation = make_invitation()
    client.post(invitation.get_absolute_url(), NEW_ACCOUNT)
    response = Client().post(invitation.get_absolute_url(), NEW_ACCOUNT | {"username": "second"})
    assert response.status_code == 410 and "already been used" in body(response)
    assert not get_user_model().objects.filter(username="second").exists()


def test_an_expired_invitation_is_refused_with_a_message(client):
    created = timezone.now() - timedelta(days=20)
    invitation = make_invitation(created=created, expires=created + timedelta(days=14))
    url = invitation.get_absolute_url()
    for response in (client.get(url), client.post(url, NEW_ACCOUNT)):
        assert response.status_code == 410 and "has expired" in body(response)
    assert not get_user_model().objects.filter(username="newres").exists()


def test_an_unknown_invitation_is_refused_with_a_message(client):
    response = client.get(reverse("accounts:signup-invited", args=["no-such-token"]))
    assert response.status_code == 404 and "not valid" in body(response)


def test_sign_up_form_errors_are_shown(client):
    invitation = make_invitation()
    response = client.post(invitation.get_absolute_url(), NEW_ACCOUNT | {"password2": "different", "username": ""})
    assert response.status_code == 200
    assert "This field is required." in body(response) and "didn’t match" in body(response)
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_logged_in_users_are_sent_home_from_sign_up(client, resident):
    client.force_login(resident)
    response = client.get(make_invitation().get_absolute_url())
    assert response.status_code == 302 and response["Location"] == reverse("cases:home")


def test_open_sign_up_is_off_by_default(client):
    assert client.get(reverse("accounts:signup")).status_code == 404
    assert client.post(reverse("accounts:signup"), NEW_ACCOUNT).status_code == 404
    assert not get_user_model().objects.filter(username="newres").exists()


def activation_link(message) -> str:
    return re.search(r"https?://testserver(/accounts/signup/activate/\S+/)", message.body).group(1)


def open_sign_up(client: Client, **changes):
    return client.post(reverse("accounts:signup"), NEW_ACCOUNT | changes)


def without_csrf_tokens(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body(response))


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_open_sign_up_activates_the_account_by_a_link_to_its_address(client, django_capture_on_commit_callbacks):
    assert client.get(reverse("accounts:signup")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = open_sign_up(client)
    assert response.status_code == 200 and "Check your e-mail" in body(response)
    user = get_user_model().objects.get(username="newres")
    assert user.email == "open@example.org" and user.groups.get().name == RESIDENT and not user.is_active
    refused = Client().post(LOGIN, {"username": "newres", "password": NEW_ACCOUNT["password1"]})
    assert refused.status_code == 200, "no login before the activation"
    [message] = mail.outbox
    assert message.to == ["open@example.org"]
    link = activation_link(message)
    assert client.get(link).status_code == 200
    user.refresh_from_db()
    assert not user.is_active, "a GET activates nothing"
    done = client.post(link, {"password": NEW_ACCOUNT["password1"]}, follow=True)
    assert done.context["user"] == user and "Welcome, Dr New Resident" in body(done)
    user.refresh_from_db()
    assert user.is_active
    replay = Client().post(link, {"password": NEW_ACCOUNT["password1"]})
    assert replay.status_code == 410 and "active already" in body(replay)


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_open_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
    django_capture_on_commit_callbacks,
):
    owner = make_user("taken-t", email="Taken@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        fresh = open_sign_up(Client(), username="fresh", email="taken-not@example.org")
        taken = open_sign_up(Client(), username="fresh2", email="taken-not@example.org".replace("-not", ""))
    assert fresh.status_code == taken.status_code == 200
    assert without_csrf_tokens(fresh).replace("taken-not@", "taken@") == without_csrf_tokens(taken)
    assert not get_user_model().objects.filter(username="fresh2").exists()
    notice = mail.outbox[-1]
    assert notice.to == ["Taken@example.org"] and "already has an account: taken-t" in notice.body
    assert reverse("password_reset") in notice.body and "activate" not in notice.body.lower()
    owner.refresh_from_db()
    assert owner.is_active


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_signing_up_again_while_waiting_for_activation_mails_a_new_link(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_sign_up(Client())
        open_sign_up(Client(), username="again")
    first, second = mail.outbox
    assert second.to == ["open@example.org"] and "already has an account: newres" in second.body
    done = Client().post(activation_link(second), {"password": NEW_ACCOUNT["password1"]})
    assert done.status_code == 302 and get_user_model().objects.get(username="newres").is_active


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_the_owner_of_an_address_cannot_be_made_to_activate_an_account_someone_else_set_up(
    django_capture_on_commit_callbacks, caplog
):
    """Someone signs up with another person's address and a password of their own; when that person signs up in
    turn, the link they are mailed must not log them into an account whose password the first one knows."""
    with django_capture_on_commit_callbacks(execute=True):
        open_sign_up(Client(), username="squatter", password1="squatters-pass-77", password2="squatters-pass-77")
        open_sign_up(Client(), username="owner")
    link = activation_link(mail.outbox[-1])
    owner = Client()
    refused = owner.post(link, {"password": NEW_ACCOUNT["password1"]})
    assert refused.status_code == 400 and "not the password" in body(refused)
    assert not get_user_model().objects.get(username="squatter").is_active
    assert "_auth_user_id" not in owner.session, "nobody is logged in"
    assert "Refused an activation for user" in caplog.text


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_a_tampered_activation_link_is_refused(client, caplog):
    response = client.post(reverse("accounts:signup-activate", args=["not-a-link"]))
    assert response.status_code == 400 and "activation link is not valid" in body(response)
    assert "Refused an activation link" in caplog.text


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_a_taken_username_is_said_plainly(client):
    make_user("newres")
    response = open_sign_up(client)
    assert response.status_code == 200 and "A user with that username already exists." in body(response)
    assert mail.outbox == []


@override_settings(TEACHINGFILE_OPEN_SIGNUP=True)
def test_one_client_tries_sixty_sign_ups_an_hour_refused_ones_included(client, caplog):
    make_user("taken-t", email="taken@example.org")
    for number in range(20):
        assert open_sign_up(client, password2="mismatch").status_code == 200
        assert open_sign_up(client, username="taken-t").status_code == 200
        assert open_sign_up(client, username=f"dept-{number}", email="taken@example.org").status_code == 200
    refused = open_sign_up(client, username="late", email="late@example.org")
    assert refused.status_code == 429 and "Too many sign-ups" in body(refused)
    assert body(refused).count('value="late"') == 1, "what was typed stays in the form"
    assert not get_user_model().objects.filter(username__in=["late", "dept-0"]).exists()
    assert "Refused a sign-up from 127.0.0.1: too many from this client" in caplog.text
    elsewhere = Client(REMOTE_ADDR="10.7.7.7")
    assert elsewhere.post(reverse("accounts:signup"), NEW_ACCOUNT | {"username": "late"}).status_code == 200


def test_the_reset_count_keys_an_address_however_it_is_written(rf):
    from accounts.limits import posted_email

    keys = {
        posted_email("password-reset", rf.post("/", {"email": spelling}))
        for spelling in (" Ｍe@example.org", "ME@EXAMPLE.ORG")
    }
    assert keys == {"me@example.org"}


@pytest.mark.parametrize("address", ["", "unix:/run/gunicorn.sock"])
def test_a_client_without_a_usable_address_is_counted_not_refused_with_an_error(address):
    client = Client(REMOTE_ADDR=address)
    assert client.post(reverse("password_reset"), {"email": "someone@example.org"}).status_code == 302


def test_the_login_page_offers_sign_up_only_when_the_site_allows_it(client):
    assert reverse("accounts:signup") not in body(client.get(LOGIN))
    assert "ask an editor" in body(client.get(LOGIN))
    with override_settings(TEACHINGFILE_OPEN_SIGNUP=True):
        page = body(client.get(LOGIN))
    assert "Create an account" in page and reverse("accounts:signup") in page


# Login lock (django-axes)


def fail_login(client: Client, username: str, address: str):
    return client.post(LOGIN, {"username": username, "password": "wrong"}, REMOTE_ADDR=address)


def test_five_failures_on_one_account_lock_it_with_a_clear_message(resident):
    client = Client()
    for _ in range(4):
        assert fail_login(client, resident.username, "10.0.0.1").status_code == 200
    locked = fail_login(client, resident.username, "10.0.0.1")
    assert locked.status_code == 429
    text = body(locked)
    assert "5 failed attempts to log in from your network address (as" in text and "paused for 15 minutes" in text
    assert reverse("password_reset") in text
    # The sixth try, with the right password now, is refused too.
    right = client.post(LOGIN, {"username": resident.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_failures_from_other_addresses_do_not_lock_the_account(resident):
    """Whoever knows a username cannot keep its owner out: the lock holds the (account, address) pair."""
    for number in range(5):
        fail_login(Client(), resident.username, f"10.0.1.{number}")
    right = Client().post(LOGIN, {"username": resident.username, "password": PASSWORD}, REMOTE_ADDR="10.0.2.1")
    assert right.status_code == 302


def test_five_failures_on_one_account_from_one_address_lock_that_address(resident, faculty):
    for _ in range(5):
        fail_login(Client(), resident.username, "10.0.1.9")
    for user in (resident, faculty):
        again = Client().post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.1.9")
        assert again.status_code == 429


def reset_password_by_link(client: Client, email: str, new_password: str) -> None:
    client.post(reverse("password_reset"), {"email": email})
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": new_password, "new_password2": new_password})
    assert done["Location"] == reverse("password_reset_complete")


def test_a_password_reset_lifts_the_lock_on_the_account(resident, caplog):
    resident.email = "resident-t@example.org"
    resident.save()
    for _ in range(5):
        fail_login(Client(), resident.username, "10.0.5.1")
    reset_password_by_link(Client(), resident.email, "reset-phrase-9000")
    credentials = {"username": resident.username, "password": "reset-phrase-9000"}
    right = Client().post(LOGIN, credentials, REMOTE_ADDR="10.0.5.1")
    assert right.status_code == 302
    assert f"Lifted the login lock on user {resident.pk}" in caplog.text


def test_five_failures_from_one_address_lock_that_address(resident, faculty):
    for number in range(5):
        fail_login(Client(), f"guess{number}", "10.0.3.1")
    from_there = Client().post(LOGIN, {"username": faculty.username, "password": PASSWORD}, REMOTE_ADDR="10.0.3.1")
    assert from_there.status_code == 429
    elsewhere = Client().post(LOGIN, {"username": faculty.username, "password": PASSWORD}, REMOTE_ADDR="10.0.3.2")
    assert elsewhere.status_code == 302, "other addresses and accounts are not affected"


def test_the_lock_lifts_after_15_minutes(resident):
    for _ in range(5):
        fail_login(Client(), resident.username, "10.0.4.1")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    right = Client().post(LOGIN, {"username": resident.username, "password": PASSWORD}, REMOTE_ADDR="10.0.4.1")
    assert right.status_code == 302
