"""The user of each request comes with its profile."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts import services
from accounts.backends import USER_FIELDS, ProfileModelBackend
from accounts.models import Profile
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


@pytest.mark.django_db
def test_get_user_reads_the_user_as_the_orm_does():
    user = make_user("compared-t")
    user.last_login = timezone.now()
    user.save()
    loaded = ProfileModelBackend().get_user(str(user.pk))  # as a session holds it
    orm = get_user_model().objects.get(pk=user.pk)
    assert [getattr(loaded, name) for name in USER_FIELDS] == [getattr(orm, name) for name in USER_FIELDS]
    assert loaded.is_active is True and loaded.last_login.tzinfo is not None
    assert not loaded._state.adding and loaded._state.db == "default"


@pytest.mark.django_db
def test_a_user_without_a_profile_is_loaded_without_one(django_assert_num_queries):
    user = make_user("unprofiled-t")
    Profile.objects.filter(user=user).delete()
    with django_assert_num_queries(1):
        loaded = ProfileModelBackend().get_user(user.pk)
        with pytest.raises(Profile.DoesNotExist):
            loaded.profile  # noqa: B018 - what select_related left: no profile, and no query to find out


@pytest.mark.django_db
def test_each_read_sees_the_user_as_they_are_now():
    user = make_user("changing-t")
    assert ProfileModelBackend().get_user(user.pk).username == "changing-t"
    get_user_model().objects.filter(pk=user.pk).update(username="changed-t")
    assert ProfileModelBackend().get_user(user.pk).username == "changed-t"
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert ProfileModelBackend().get_user(user.pk) is None
    assert ProfileModelBackend().get_user(user.pk + 1000) is None
