"""The user of each request comes with its profile."""

import pytest

from accounts import services
from accounts.backends import ProfileModelBackend
from cases.tests.factories import make_user


@pytest.mark.django_db
def test_get_user_loads_the_profile_in_the_same_query(django_assert_num_queries):
    user = make_user("profiled-t")
    services.profile_update(user=user, display_name="Dr P", training_level="")
    with django_assert_num_queries(1):
        loaded = ProfileModelBackend().get_user(user.pk)
        assert loaded.profile.display_name == "Dr P"


@pytest.mark.django_db
def test_inactive_users_are_not_loaded():
    assert ProfileModelBackend().get_user(make_user("gone-t", is_active=False).pk) is None
