"""A read compiled once returns what its queryset would, with each call's values."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connections
from django.db.models.functions import Now
from django.utils import timezone

from accounts.backends import ProfileModelBackend
from accounts.sessions import SessionStore
from cases.models import Case
from cases.tests.factories import make_case, make_user
from teachingfile.compiled_reads import CompiledRead


@pytest.mark.django_db
def test_rows_are_the_querysets_for_each_value_and_compiled_once(django_assert_num_queries):
    author = make_user("compiling-t", "faculty")
    cases = [make_case(authors=[author], title=f"Compiled {n}") for n in range(3)]
    builds = []

    def build(pk):
        builds.append(pk)
        return Case.objects.filter(pk=pk).values_list("title", "created")

    read = CompiledRead(build, -1)
    for case in cases:
        with django_assert_num_queries(1):
            rows = read.rows(case.pk, using="default")
        assert rows == list(build(case.pk))
    assert read.rows(-5, using="default") == []
    assert builds == [-1] + [case.pk for case in cases]  # the read's own build once; the rest the test's


def test_values_of_another_type_than_the_marks_are_refused():
    read = CompiledRead(lambda pk: Case.objects.filter(pk=pk).values_list("title"), -1)
    with pytest.raises(TypeError):
        read.rows("1", using="default")


@pytest.mark.django_db
def test_a_mark_that_another_parameter_equals_is_refused():
    read = CompiledRead(lambda pk: Case.objects.filter(pk=pk, difficulty=pk).values_list("title"), 3)
    with pytest.raises(ValueError, match="each mark must appear once"):
        read.rows(3, using="default")


@pytest.mark.django_db
def test_a_session_is_read_until_it_expires():
    store = SessionStore()
    store["held"] = [7]
    store.create()
    assert SessionStore(store.session_key).load() == {"held": [7]}
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    assert not Session.objects.filter(session_key=store.session_key, expire_date__gt=Now()).exists()


@pytest.mark.django_db(transaction=True)
def test_threads_sharing_one_connection_each_get_their_own_rows():
    """A live test server's request threads share the test's connection: one thread's values never reach
    another's query."""
    cases = [make_case(title=f"Threaded {n}") for n in range(4)]
    read = CompiledRead(lambda pk: Case.objects.filter(pk=pk).values_list("pk", "title"), -1)
    shared = connections["default"]
    shared.inc_thread_sharing()
    wrong = []

    def read_own(case):
        connections["default"] = shared
        for _ in range(200):
            rows = read.rows(case.pk, using="default")
            if rows != [(case.pk, case.title)]:
                wrong.append(rows)

    threads = [threading.Thread(target=read_own, args=(case,)) for case in cases]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        shared.dec_thread_sharing()
    assert wrong == []


def test_the_site_reads_its_sessions_by_compiled_sql():
    assert settings.SESSION_ENGINE == "accounts.sessions"


@pytest.mark.django_db
def test_a_request_reads_its_session_and_user_without_compiling_them_again():
    user = make_user("compiled-once-t")
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    SessionStore(store.session_key).load()
    ProfileModelBackend().get_user(user.pk)  # both compiled on this connection, if they were not already
    compiling = mock.Mock(side_effect=AssertionError("compiled again"))
    with (
        mock.patch.object(Session.objects, "filter", compiling),
        mock.patch.object(get_user_model()._default_manager, "filter", compiling),
    ):
        assert SessionStore(store.session_key).load() == {"_auth_user_id": str(user.pk)}
        assert ProfileModelBackend().get_user(user.pk).pk == user.pk
