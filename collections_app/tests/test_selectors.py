from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.utils import timezone

from cases.models import Case, Reveal
from cases.review_hold import hold
from cases.tests.factories import make_case, make_user
from collections_app.models import Collection
from collections_app.selectors import State, collection_beside_case, collection_progress

from .factories import make_collection

pytestmark = pytest.mark.django_db


def reader_request(user, query: str = ""):
    request = RequestFactory().get("/" + query)
    request.user = user
    request.session = {}
    return request


def test_each_case_is_unknown_revealed_or_missed_in_the_collections_order(resident, faculty):
    first, second, third = make_case(), make_case(), make_case()
    collection = make_collection(owner=faculty, cases=[third, first, second])
    Reveal.objects.create(case=first, user=resident)
    Reveal.objects.create(case=second, user=resident, self_assessment=Reveal.Assessment.MISSED)
    progress = collection_progress(reader_request(resident), collection)
    assert [(item.case, item.position, item.state) for item in progress.items] == [
        (third, 1, State.UNKNOWN),
        (first, 2, State.REVEALED),
        (second, 3, State.MISSED),
    ]
    assert (progress.revealed, progress.total, progress.missed) == (2, 3, 1)
    assert progress.items[2].review_due == timezone.localdate() + timedelta(days=1)


def test_a_case_brought_back_for_review_is_an_unknown_again(resident, faculty):
    case = make_case()
    collection = make_collection(owner=faculty, cases=[case])
    Reveal.objects.create(case=case, user=resident, self_assessment=Reveal.Assessment.MISSED)
    request = reader_request(resident)
    hold(request, case.pk)
    assert collection_progress(request, collection).items[0].state == State.UNKNOWN


def test_the_next_unknown_follows_the_order_wraps_round_and_skips_what_was_revealed(resident, faculty):
    cases = [make_case() for _ in range(4)]
    collection = make_collection(owner=faculty, cases=cases)
    Reveal.objects.create(case=cases[1], user=resident)
    progress = collection_progress(reader_request(resident), collection)
    assert progress.next_unknown() == cases[0]
    assert progress.next_unknown(cases[0]) == cases[2]
    assert progress.next_unknown(cases[2]) == cases[3]
    assert progress.next_unknown(cases[3]) == cases[0]
    assert progress.next_unknown(cases[1]) == cases[2]


def test_no_next_unknown_once_every_other_case_is_revealed(resident, faculty):
    cases = [make_case(), make_case()]
    collection = make_collection(owner=faculty, cases=cases)
    Reveal.objects.create(case=cases[1], user=resident)
    assert collection_progress(reader_request(resident), collection).next_unknown(cases[0]) is None


def test_cases_the_reader_may_not_open_are_left_out(resident, faculty):
    shown = make_case()
    draft = make_case(status=Case.Status.DRAFT)
    private = make_case(access=Case.Access.PRIVATE)
    collection = make_collection(owner=faculty, cases=[draft, shown, private])
    progress = collection_progress(reader_request(resident), collection)
    assert [item.case for item in progress.items] == [shown] and progress.items[0].position == 1


def test_who_may_open_a_collection(resident, faculty, other_faculty, editor):
    group = Group.objects.create(name="MSK rotation")
    resident.groups.add(group)
    everyone = make_collection(owner=faculty)
    rotation = make_collection(owner=faculty, groups=[group])
    private = make_collection(owner=resident, visibility=Collection.Visibility.PRIVATE)
    other = make_user("resident-other-t", "resident")
    assert set(Collection.objects.visible_to(resident)) >= {everyone, rotation, private}
    assert set(Collection.objects.visible_to(other)) & {rotation, private} == set()
    assert private not in Collection.objects.visible_to(editor)
    assert private not in Collection.objects.editable_by(editor) and rotation in Collection.objects.editable_by(editor)
    assert set(Collection.objects.editable_by(other_faculty)) & {everyone, rotation, private} == set()


def test_a_case_page_stands_in_the_collection_only_when_the_link_is_good(resident, faculty):
    case, other = make_case(), make_case()
    collection = make_collection(owner=faculty, cases=[case, other])
    private = make_collection(owner=faculty, cases=[case], visibility=Collection.Visibility.PRIVATE)
    beside = collection_beside_case(reader_request(resident, f"?collection={collection.slug}"), case)
    assert (beside.position, beside.total, beside.next_unknown) == (1, 2, other)
    assert beside.query == f"?collection={collection.slug}"
    for query in ("", "?collection=", "?collection=no-such-set", f"?collection={private.slug}", "?collection=a/b"):
        assert collection_beside_case(reader_request(resident, query), case) is None
    assert collection_beside_case(reader_request(resident, f"?collection={collection.slug}"), make_case()) is None
