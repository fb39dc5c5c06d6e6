"""The display_name and duration_text filters."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from accounts import services
from accounts.templatetags.accounts import display_name, duration_text
from cases.tests.factories import make_user


@pytest.mark.django_db
def test_display_name_prefers_profile_then_full_name_then_username():
    user = make_user("plain-t")
    assert display_name(user) == "plain-t"
    user.first_name, user.last_name = "Fay", "Faculty"
    assert display_name(user) == "Fay Faculty"
    services.profile_update(user=user, display_name="Dr Fay", training_level="attending")
    assert display_name(user) == "Dr Fay"


@pytest.mark.django_db
def test_display_name_costs_no_query_when_the_profile_is_selected(django_assert_num_queries):
    for number in range(3):
        services.profile_update(user=make_user(f"u{number}-t"), display_name=f"Dr {number}", training_level="")
    make_user("no-profile-t")
    users = list(get_user_model().objects.filter(username__endswith="-t").select_related("profile"))
    with django_assert_num_queries(0):
        names = {display_name(user) for user in users}
    assert names == {"Dr 0", "Dr 1", "Dr 2", "no-profile-t"}


def test_display_name_of_nobody_is_empty():
    assert display_name(None) == "" and display_name(AnonymousUser()) == ""


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(seconds=20), "1 minute"),
        (None, "a while"),
    ],
)
def test_duration_text(duration, text):
    assert duration_text(duration) == text
