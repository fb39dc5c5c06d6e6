"""Full-text search: the websearch syntax, the index kept by the database, and no oracle for hidden answers."""

import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from cases import listing
from cases.models import Case, CaseFinding, Reveal
from cases.search import case_search, case_search_similar, fts5_query
from cases.tests.factories import make_case, make_user

NONSENSE = "qwyzzle"


@pytest.fixture
def runners(db) -> dict[str, Case]:
    """Three cases alike before the reveal; two share a hidden diagnosis and finding, one does not."""
    return {
        "osteoma": make_case(
            title="Hip pain in a runner",
            brief_history="Night pain in the hip, relieved by aspirin.",
            diagnosis="Osteoid osteoma",
            keywords="nidus",
            findings=["Lucent nidus with surrounding sclerosis"],
        ),
        "fracture": make_case(
            title="Hip pain in a marathon runner",
            brief_history="Pain on running, worse at the end of a race.",
            diagnosis="Stress fracture of the femoral neck",
            findings=["Band of sclerosis across the neck"],
        ),
        "second osteoma": make_case(
            title="Thigh pain in a teenager",
            brief_history="Pain at night for months.",
            diagnosis="Osteoid osteoma of the femur",
            findings=["Cortical nidus"],
        ),
    }


def found(cases: dict[str, Case], text: str, reveals=None) -> tuple[list[str], int | None]:
    """The numbers on the first page of a search among these cases, in order, and the count the page shows."""
    among = Case.objects.filter(pk__in=[case.pk for case in cases.values()])
    page = listing.case_list_page(
        among, reveals=reveals or Reveal.objects.none(), text=text, position=QueryDict(), size=10
    )
    return [case.number for case in page.cases], page.count


def test_words_are_stemmed_and_the_websearch_syntax_holds(runners):
    osteoma, fracture, thigh = (runners[name].number for name in ("osteoma", "fracture", "second osteoma"))
    assert set(found(runners, "runners")[0]) == {osteoma, fracture}
    assert found(runners, '"marathon runner"')[0] == [fracture]
    assert found(runners, "hip -marathon")[0] == [osteoma]
    assert set(found(runners, "aspirin or teenager")[0]) == {osteoma, thigh}
    assert found(runners, runners["osteoma"].number)[0] == [osteoma], "the case number is searched"
    among = Case.objects.filter(pk__in=[case.pk for case in runners.values()])
    assert not case_search(among, text="the of", reveals=Reveal.objects.none()).cases.exists(), "stop words alone"


def test_a_title_word_ranks_before_a_history_word(runners):
    marathon = make_case(title="Knee pain", brief_history="Ran a marathon last week.")
    runners["marathon in history"] = marathon
    assert found(runners, "marathon")[0] == [runners["fracture"].number, marathon.number]


@pytest.mark.parametrize(
    "text",
    ["osteoid", "nidus", "osteoid osteoma", "hip osteoid", "hip or osteoid", "hip -osteoid", '"osteoid osteoma"'],
)
def test_a_hidden_word_answers_as_nonsense_does_for_cases_not_revealed(runners, text, resident):
    """Whether, how many and in which order cases match never depends on an unrevealed case's answer."""
    nonsense = text.replace("osteoid", NONSENSE).replace("nidus", NONSENSE)
    nobody = Reveal.objects.none()
    assert found(runners, text, nobody) == found(runners, nonsense, nobody)
    Reveal.objects.create(case=runners["fracture"], user=resident)
    theirs = Reveal.objects.for_reader(user=resident)
    assert found(runners, text, theirs) == found(runners, nonsense, theirs)


def test_a_reader_finds_by_diagnosis_and_finding_only_the_cases_they_revealed(runners, resident, client):
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[runners["osteoma"].number]), {"committed_answer": ""})
    other = Client()
    other.force_login(make_user("other-resident", "resident"))
    for text in ("osteoid osteoma", "nidus", "hip sclerosis"):
        mine = client.get(reverse("cases:case-list"), {"q": text}).content.decode()
        theirs = other.get(reverse("cases:case-list"), {"q": text}).content.decode()
        assert runners["osteoma"].get_absolute_url() in mine, text
        assert runners["second osteoma"].get_absolute_url() not in mine, f"{text}: not revealed by this reader"
        assert runners["osteoma"].get_absolute_url() not in theirs, f"{text}: revealed by another reader"


def test_the_index_follows_every_write(runners, resident):
    case = runners["osteoma"]
    Case.objects.filter(pk=case.pk).update(title="Zebra stripes")  # no save(): the database keeps the index
    assert found(runners, "zebra")[0] == [case.number]
    assert found(runners, "runner")[0] == [runners["fracture"].number]
    Reveal.objects.create(case=case, user=resident)
    CaseFinding.objects.create(case=case, order=2, text="Periosteal reaction")
    assert found(runners, "periosteal", Reveal.objects.for_reader(user=resident))[0] == [case.number]
    CaseFinding.objects.filter(case=case).update(text="Onion-skin periosteum")
    assert found(runners, "onion", Reveal.objects.for_reader(user=resident))[0] == [case.number]
    assert found(runners, "periosteal", Reveal.objects.for_reader(user=resident))[0] == []
    CaseFinding.objects.filter(case=case).delete()
    assert found(runners, "onion", Reveal.objects.for_reader(user=resident))[0] == []
    Case.objects.filter(pk=case.pk).update(diagnosis="Chondroblastoma", keywords="epiphysis")
    assert found(runners, "chondroblastoma epiphysis", Reveal.objects.for_reader(user=resident))[0] == [case.number]
    assert found(runners, "nidus", Reveal.objects.for_reader(user=resident))[0] == []
    case.delete()
    assert found(runners, "zebra")[0] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's (pg_trgm)")
def test_a_misspelt_word_finds_cases_spelt_alike(runners):
    page = listing.case_list_page(
        Case.objects.filter(pk__in=[case.pk for case in runners.values()]),
        reveals=Reveal.objects.none(),
        text="maraton runer",
        position=QueryDict(),
        size=10,
    )
    assert page.similar and [case.number for case in page.cases] == [runners["fracture"].number]
    spelt_right = case_search_similar(Case.objects.all(), text="marathon", reveals=Reveal.objects.none())
    assert not spelt_right.cases.exists(), "no word corrected: nothing new to show"


def test_the_search_index_is_in_place(db):
    """SQLite drops a table's triggers when a migration rebuilds it: a later migration must make them again."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'case_search_%' UNION "
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'cases_case_search_%' "
                "OR tgname LIKE 'cases_casefinding_search_%'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_search_%'")
        names = {name for (name,) in cursor.fetchall()}
    if connection.vendor == "postgresql":
        full = {f"cases_case_search_full_{event}" for event in ("insert", "update", "delete")}
        words = {"case_search_document", "case_search_word_trigram", "cases_case_search_words"}
        assert names == {*words, *full, "cases_casefinding_search_full"}
    else:
        events = ("insert", "update", "delete")
        assert names == {f"cases_{table}_search_{event}" for table in ("case", "casefinding") for event in events}


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("hip pain", '("hip") AND ("pain")'),
        ('"osteoid osteoma" -femur', '("osteoid osteoma") NOT "femur"'),
        ("knee or hip fall", '("knee" OR "hip") AND ("fall")'),
        ("pain of the knee", '("pain") AND ("knee")'),
        ("tf-101", '("tf 101")'),
        ('NEAR(hip) "unclosed', '("NEAR hip") AND ("unclosed")'),
        ("hip* ^pain title:x", '("hip") AND ("pain") AND ("title x")'),
        ("-hip", ""),
        ("or", ""),
        ("", ""),
    ],
)
def test_fts5_query_quotes_every_word(text, query):
    assert fts5_query(text) == query


def test_a_search_never_fails_on_syntax(runners):
    for text in ['"', "-", "or or", "NOT", "a:b", "(", "*", "\\", "'", "héllo wörld", "—"]:
        numbers, count = found(runners, text)
        assert count == len(numbers)
        assert case_search(Case.objects.all(), text=text, reveals=Reveal.objects.none()).cases.count() >= 0


def test_the_list_page_says_when_it_shows_words_spelt_alike(db, client, resident):
    client.force_login(resident)
    body = client.get(reverse("cases:case-list"), {"q": NONSENSE}).content.decode()
    assert re.search(r"\b0 cases\b", body)
