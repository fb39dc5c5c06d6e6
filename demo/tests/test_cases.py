"""The demo loader: sources cited by their real titles, older demo rows brought up to date, the demo mark."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from cases.models import Case, CaseReference, Gate, Series, TopicReference
from cases.tests.factories import make_case

pytestmark = pytest.mark.django_db

DEMO_CASES = ["tf101", "tf102", "tf103"]
# The five source documents the demo content was adapted from, by who published them (checked by hand).
PUBLISHERS = [
    "Boray Medical",
    "Unsigned web overview",
    "Radiopaedia.org",
    "Mallinckrodt Institute",
    "LearningRadiology",
]


def demo_texts() -> list[str]:
    references = CaseReference.objects.filter(case__number__in=DEMO_CASES).values_list("citation", flat=True)
    topic_references = TopicReference.objects.filter(topic__slug="heterotopic-ossification")
    credits = Case.objects.filter(number__in=DEMO_CASES).values_list("credit", flat=True)
    return [*references, *topic_references.values_list("citation", flat=True), *credits]


def test_demo_references_and_credits_name_no_internal_seed_document():
    texts = demo_texts()
    assert texts and not [text for text in texts if "seed" in text.lower()]


@pytest.mark.parametrize("number", DEMO_CASES)
def test_each_demo_reference_names_a_real_publication(number):
    citations = list(CaseReference.objects.filter(case__number=number).values_list("citation", flat=True))
    assert citations
    for citation in citations:
        assert "heterotopic ossification" in citation.lower() or "Neuromuscular disorders" in citation, citation
        assert any(publisher in citation for publisher in [*PUBLISHERS, "Resnick"]), citation


def test_reloading_gives_older_demo_rows_the_current_citations_but_keeps_authors_edits():
    retired = json.loads((settings.BASE_DIR / "fixtures" / "demo.json").read_text(encoding="utf-8"))["retired_texts"]
    case = Case.objects.get(number="tf101")
    old_reference, edited_reference = case.references.order_by("order")[:2]
    old_reference.citation, old_reference.url = retired[0]["old"], ""
    old_reference.save()
    edited_reference.citation = "An author's own citation."
    edited_reference.save()
    topic_reference = TopicReference.objects.filter(topic__slug="heterotopic-ossification").first()
    topic_reference.citation = retired[1]["old"]
    topic_reference.save()
    Case.objects.filter(pk=case.pk).update(credit=retired[2]["old"], is_demo=False)

    call_command("load_demo", verbosity=0)

    old_reference.refresh_from_db()
    edited_reference.refresh_from_db()
    topic_reference.refresh_from_db()
    case.refresh_from_db()
    assert (old_reference.citation, old_reference.url) == (retired[0]["new"], retired[0]["url"])
    assert topic_reference.citation == retired[1]["new"]
    assert case.credit == retired[2]["new"] and case.is_demo
    assert edited_reference.citation == "An author's own citation."


def test_the_synthetic_images_note_is_on_demo_case_pages_only(client, resident):
    client.force_login(resident)
    real = make_case()
    note = "its images are synthetic"
    assert note in client.get(reverse("cases:case-detail", args=["tf101"])).content.decode()
    assert note in client.get(reverse("cases:case-viewer", args=["tf101"])).content.decode()
    for url in [reverse("cases:home"), real.get_absolute_url(), reverse("cases:case-viewer", args=[real.number])]:
        body = client.get(url).content.decode()
        assert "synthetic" not in body, url


def test_the_demo_work_ups_stop_at_their_gates_and_reloading_adds_none():
    """tf101: radiograph → gate → CT and MRI; tf102: flow and blood pool → gate → delayed → gate → radiograph."""

    def gates(number: str) -> list[tuple[str, str]]:
        stages = Series.objects.presented().filter(case__number=number).select_related("gate").order_by("order")
        return [
            (series.modality + (f" {series.phase}" if series.phase else ""), series.gate.kind)
            for series in stages
            if hasattr(series, "gate")
        ]

    expected = {
        "tf101": [("XR", Gate.Kind.NEXT_STEP)],
        "tf102": [("NM blood_pool", Gate.Kind.IMPRESSION), ("NM delayed", Gate.Kind.DIFFERENTIAL)],
        "tf103": [],
    }
    assert {number: gates(number) for number in DEMO_CASES} == expected
    assert Gate.objects.get(series__case__number="tf101").author_choices == ["CT of the pelvis, then MRI"]
    call_command("load_demo", verbosity=0)
    assert {number: gates(number) for number in DEMO_CASES} == expected
    assert Gate.objects.count() == 3
