"""A read compiled once returns what its queryset would, with each call's values."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db.models.functions import Now
from django.utils import timezone

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
