"""A reader's differential: what its boxes suggest, how each entry is marked, and the top-3 count."""

import pytest
from django.db import IntegrityError, transaction

from cases import services
from cases.differentials import Mark, mark_differential, suggested_names, top_three_for
from cases.models import Case, DifferentialEntry, RevealDifferential
from cases.tests.factories import make_case, make_topic, make_user


def marks(case: Case, *texts: str) -> list[tuple[str, Mark, str]]:
    entries = [RevealDifferential(rank=rank, text=text) for rank, text in enumerate(texts, start=1)]
    return [(entry.text, entry.mark, entry.matched) for entry in mark_differential(case=case, entries=entries)]


@pytest.mark.django_db
def test_tf101_entries_are_marked_against_its_diagnosis_then_its_differential():
    # tf101: heterotopic ossification (topic with synonyms "HO", "myositis ossificans (historical term)"…);
    # its differential: "Osteosarcoma", "Chondrosarcoma or another tumour-like lesion", "Periosteal new bone or
    # cartilage calcification from chronic joint disease".
    case = Case.objects.get(number="tf101")
    assert marks(case, "HO", "heterotopic ossificaton", "myositis ossificans") == [
        ("HO", Mark.DIAGNOSIS, ""),
        ("heterotopic ossificaton", Mark.DIAGNOSIS, ""),  # one letter out: the matcher's typo tolerance
        ("myositis ossificans", Mark.DIAGNOSIS, ""),
    ]
    assert marks(case, "osteosarcom", "chondrosarcoma", "periosteal new bone") == [
        ("osteosarcom", Mark.DIFFERENTIAL, "Osteosarcoma"),
        ("chondrosarcoma", Mark.DIFFERENTIAL, "Chondrosarcoma or another tumour-like lesion"),
        (
            "periosteal new bone",
            Mark.DIFFERENTIAL,
            "Periosteal new bone or cartilage calcification from chronic joint disease",
        ),
    ]
    assert marks(case, "gout", "not osteosarcoma", "ossification") == [
        ("gout", Mark.NOT_LISTED, ""),
        ("not osteosarcoma", Mark.NOT_LISTED, ""),  # negated, as the quizzes mark it
        ("ossification", Mark.NOT_LISTED, ""),  # part of a name is not the name
    ]


@pytest.mark.django_db
def test_examples_in_brackets_and_an_entry_topics_names_count_as_the_entry():
    topic = make_topic(name="Tumoral calcinosis", synonyms="Teutschlaender disease")
    case = make_case(diagnosis="Myositis ossificans")
    DifferentialEntry.objects.create(
        case=case, order=1, diagnosis="Soft-tissue calcification (e.g. calcific tendinitis; gout)", reasoning="-"
    )
    DifferentialEntry.objects.create(case=case, order=2, diagnosis="Calcinosis of the soft tissues", reasoning="-")
    DifferentialEntry.objects.filter(order=2, case=case).update(topic=topic)
    assert marks(case, "calcific tendinitis", "Teutschlaender disease", "e.g.") == [
        ("calcific tendinitis", Mark.DIFFERENTIAL, "Soft-tissue calcification (e.g. calcific tendinitis; gout)"),
        ("Teutschlaender disease", Mark.DIFFERENTIAL, "Calcinosis of the soft tissues"),
        ("e.g.", Mark.NOT_LISTED, ""),
    ]


@pytest.mark.django_db
def test_the_authors_entry_is_noted_only_when_the_reader_wrote_it_otherwise():
    case = Case.objects.get(number="tf101")
    entries = [RevealDifferential(rank=1, text="OSTEOSARCOMA"), RevealDifferential(rank=2, text="chondrosarcoma")]
    notes = [entry.match_note for entry in mark_differential(case=case, entries=entries)]
    assert notes == ["", "Chondrosarcoma or another tumour-like lesion"]


@pytest.mark.django_db
def test_no_entries_read_nothing(django_assert_num_queries):
    case = Case.objects.get(number="tf101")
    with django_assert_num_queries(0):
        assert mark_differential(case=case, entries=[]) == []


@pytest.mark.django_db
def test_the_suggestions_are_every_topics_names_once_sorted():
    make_topic(name="Osteoid osteoma", synonyms="OO\nheterotopic bone\n  \nosteoid Osteoma")
    names = suggested_names()
    assert "Osteoid osteoma" in names and "OO" in names
    assert "Heterotopic ossification" in names and "myositis ossificans (historical term)" in names
    folded = [name.casefold() for name in names]
    assert folded == sorted(folded) and len(folded) == len(set(folded)) and "" not in folded


@pytest.mark.django_db
def test_top_three_counts_the_reveals_with_a_differential_and_those_that_named_the_diagnosis(
    resident, django_assert_num_queries
):
    hit, missed, none = (Case.objects.get(number=number) for number in ("tf101", "tf102", "tf103"))
    services.case_reveal(case=hit, user=resident, differential=["osteosarcoma", "HO"])
    services.case_reveal(case=missed, user=resident, differential=["osteomyelitis", "septic arthritis"])
    services.case_reveal(case=none, user=resident, committed_answer="HO")  # no differential: not counted
    draft = make_case(status=Case.Status.DRAFT, diagnosis="Gout")
    services.case_reveal(case=draft, user=resident, differential=["gout"])  # a case readers cannot open
    services.case_reveal(case=hit, user=make_user("other"), differential=["HO"])  # someone else's
    with django_assert_num_queries(1):
        top = top_three_for(resident)
    assert (top.entered, top.hit) == (2, 1)


@pytest.mark.django_db
def test_the_first_differential_is_kept_cleaned_and_cut_to_three(resident):
    case = Case.objects.get(number="tf101")
    reveal = services.case_reveal(
        case=case, user=resident, differential=["  osteo\tsarcoma ", "", "HO", "gout", "fourth"]
    )
    services.case_reveal(case=case, user=resident, differential=["changed after seeing it"])
    assert [(entry.rank, entry.text) for entry in reveal.differential.all()] == [
        (1, "osteo sarcoma"),
        (2, "HO"),
        (3, "gout"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"rank": 4, "text": "gout"}, {"rank": 0, "text": "gout"}, {"rank": 1, "text": ""}])
def test_the_database_refuses_a_rank_out_of_range_or_an_empty_entry(resident, fields):
    reveal = services.case_reveal(case=Case.objects.get(number="tf101"), user=resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        RevealDifferential.objects.create(reveal=reveal, **fields)


@pytest.mark.django_db
def test_a_rank_is_taken_once_per_reveal(resident):
    reveal = services.case_reveal(case=Case.objects.get(number="tf101"), user=resident, differential=["HO"])
    with pytest.raises(IntegrityError), transaction.atomic():
        RevealDifferential.objects.create(reveal=reveal, rank=1, text="gout")
