import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Reveal
from cases.tests.factories import make_case, pass_gates
from collections_app.models import Collection

from .factories import make_collection

pytestmark = pytest.mark.django_db
DEMO = "pelvis-and-hips-work-ups"


def secrets_of(case: Case) -> list[str]:
    return [case.diagnosis, case.topic.name] if case.topic else [case.diagnosis]


def next_link(body: str) -> str:
    return re.search(r'href="([^"]+)">Next unknown', body).group(1).replace("&amp;", "&")


def test_the_collection_page_shows_progress_and_no_diagnosis(client, resident):
    client.force_login(resident)
    demo = Case.objects.filter(number__in=["tf101", "tf102", "tf103"]).select_related("topic")
    pass_gates(client, "tf101")
    client.post(reverse("cases:case-reveal", args=["tf101"]), {"committed_answer": "fracture"})
    client.post(reverse("cases:case-assess", args=["tf101"]), {"self_assessment": "missed"})
    body = client.get(reverse("collections:collection-detail", args=[DEMO])).content.decode()
    assert "1 of 3</strong> revealed · 1 missed" in body
    assert body.count("badge-unknown") == 2 and body.count("badge-missed") == 1
    assert "nothing on this page names a diagnosis" in body
    for case in demo:  # not even the revealed one's: beside the unknowns it would be a hint
        for secret in secrets_of(case):
            assert secret.lower() not in body.lower(), secret
    assert f'href="/cases/tf102/?collection={DEMO}">Next unknown' in body


def test_a_topic_collection_says_so_before_the_first_case(client, resident, faculty):
    client.force_login(resident)
    collection = make_collection(owner=faculty, cases=[make_case()], is_topic=True, title="Osteoid osteoma")
    body = client.get(collection.get_absolute_url()).content.decode()
    assert "Topic collection: its title names what its cases have in common" in body


def test_next_unknown_walks_the_collection_from_case_page_to_case_page(client, resident):
    client.force_login(resident)
    url = reverse("cases:case-detail", args=["tf101"]) + f"?collection={DEMO}"
    seen = []
    for _ in range(3):
        body = client.get(url).content.decode()
        seen.append(re.search(r'data-case="([^"]+)"', body).group(1))
        assert "Pelvis and hips: three work-ups</a> · case" in body
        assert Case.objects.get(number=seen[-1]).diagnosis not in body
        url = next_link(body)
    assert seen == ["tf101", "tf102", "tf103"]
    assert url == reverse("cases:case-detail", args=["tf101"]) + f"?collection={DEMO}", "round to the first"


def test_the_reveal_and_the_rating_keep_the_reader_in_the_collection(client, resident):
    client.force_login(resident)
    carried = f"?collection={DEMO}"
    page = client.get(reverse("cases:case-detail", args=["tf101"]) + carried).content.decode()
    assert re.search(rf'action="/cases/tf101/gates/\d+/answer/\{carried}"', page), "the gate's answer keeps it too"
    pass_gates(client, "tf101")
    page = client.get(reverse("cases:case-detail", args=["tf101"]) + carried).content.decode()
    assert f'action="/cases/tf101/reveal/{carried}"' in page
    revealed = client.post(reverse("cases:case-reveal", args=["tf101"]) + carried, {"committed_answer": "x"})
    assert revealed["Location"] == f"/cases/tf101/{carried}#answer"
    body = client.get(revealed["Location"]).content.decode()
    assert f'action="/cases/tf101/assessment/{carried}"' in body
    assert next_link(body) == f"/cases/tf102/{carried}"
    rated = client.post(reverse("cases:case-assess", args=["tf101"]) + carried, {"self_assessment": "missed"})
    assert rated["Location"] == f"/cases/tf101/{carried}#assessment"


def test_a_bad_or_foreign_collection_parameter_is_ignored(client, resident, faculty):
    client.force_login(resident)
    private = make_collection(owner=faculty, visibility=Collection.Visibility.PRIVATE)
    for slug in ("no-such-set", private.slug, '"><script>'):
        body = client.get(reverse("cases:case-detail", args=["tf101"]), {"collection": slug}).content.decode()
        assert "Next unknown" not in body and '"><script>' not in body


def test_a_missed_case_comes_back_as_an_unknown_from_the_collection(client, resident):
    client.force_login(resident)
    pass_gates(client, "tf102")
    client.post(reverse("cases:case-reveal", args=["tf102"]), {"committed_answer": "x"})
    client.post(reverse("cases:case-assess", args=["tf102"]), {"self_assessment": "missed"})
    page = client.get(reverse("collections:collection-detail", args=[DEMO])).content.decode()
    assert "Back as an unknown for review on" in page, "not due on the day of the reveal"
    Reveal.objects.filter(case__number="tf102").update(revealed_at=timezone.now() - timedelta(days=2))
    page = client.get(reverse("collections:collection-detail", args=[DEMO])).content.decode()
    assert reverse("quizzes:review-case-open", args=["tf102"]) in page
    opened = client.post(reverse("quizzes:review-case-open", args=["tf102"]), {"collection": DEMO})
    assert opened["Location"] == f"/cases/tf102/?collection={DEMO}"
    body = client.get(opened["Location"]).content.decode()
    assert Case.objects.get(number="tf102").diagnosis not in body and "Show diagnosis" in body
    page = client.get(reverse("collections:collection-detail", args=[DEMO])).content.decode()
    assert "0 of 3</strong> revealed" in page


def test_anyone_adds_a_case_to_a_list_of_their_own(client, resident):
    client.force_login(resident)
    url = reverse("collections:collection-add-case", args=["tf103"])
    response = client.post(url, {"title": "Call prep"})
    mine = Collection.objects.get(owner=resident)
    assert mine.visibility == Collection.Visibility.PRIVATE and list(mine.cases.values_list("number", flat=True)) == [
        "tf103"
    ]
    assert response["Location"] == f"/cases/tf103/?collection={mine.slug}"
    client.post(reverse("collections:collection-add-case", args=["tf101"]), {"collection": mine.pk})
    assert list(mine.entries.values_list("case__number", flat=True)) == ["tf103", "tf101"]
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert "Add to my collection" in client.get(reverse("cases:case-detail", args=["tf102"])).content.decode()


def test_a_private_list_s_name_is_no_oracle_for_the_diagnosis_of_an_unknown(client, resident):
    """Refusing a name that names the diagnosis would tell a reader who has not revealed the case that their
    guess is right: a private list is read by the one who named it only, so any name is taken."""
    client.force_login(resident)
    url = reverse("collections:collection-add-case", args=["tf103"])
    for guess in ("Heterotopic ossification", "Osteosarcoma"):
        body = client.post(url, {"title": guess}, follow=True).content.decode()
        assert "says what a case of the collection is" not in body
        assert f"Case tf103 is in “{guess}”" in body
    assert Collection.objects.filter(owner=resident).count() == 2
    mine = Collection.objects.get(owner=resident, title="Osteosarcoma")
    client.post(reverse("collections:collection-add-case", args=["tf101"]), {"collection": mine.pk})
    assert list(mine.entries.values_list("case__number", flat=True)) == ["tf103", "tf101"]


def test_nobody_adds_to_a_collection_not_their_own(client, resident, faculty):
    client.force_login(resident)
    shared = make_collection(owner=faculty)
    client.post(reverse("collections:collection-add-case", args=["tf103"]), {"collection": shared.pk})
    assert not shared.entries.exists()


def test_a_group_collection_is_closed_to_readers_outside_the_group(client, resident, faculty):
    client.force_login(resident)
    collection = make_collection(owner=faculty, groups=[Group.objects.create(name="Fellows")])
    assert client.get(collection.get_absolute_url()).status_code == 404
    assert collection.title not in client.get(reverse("collections:collection-list")).content.decode()


def test_faculty_may_not_save_a_shared_collection_named_after_its_cases_diagnosis(client, faculty):
    client.force_login(faculty)
    tf101 = Case.objects.get(number="tf101")
    data = {
        "title": "Heterotopic ossification",
        "slug": "ho",
        "description": "",
        "visibility": "shared",
        "entries-TOTAL_FORMS": "1",
        "entries-INITIAL_FORMS": "0",
        "entries-0-order": "1",
        "entries-0-case": tf101.pk,
    }
    response = client.post(reverse("admin:collections_app_collection_add"), data)
    assert response.status_code == 200 and "says what a case of the collection is" in response.content.decode()
    assert not Collection.objects.filter(slug="ho").exists()
    response = client.post(reverse("admin:collections_app_collection_add"), {**data, "is_topic": "on"})
    assert response.status_code == 302
    assert Collection.objects.get(slug="ho").owner == faculty


def test_a_collection_keeps_a_case_retired_since_it_was_added(client, faculty):
    client.force_login(faculty)
    retired = make_case(status=Case.Status.RETIRED)
    collection = make_collection(owner=faculty, cases=[retired])
    entry = collection.entries.get()
    data = {
        "title": collection.title,
        "slug": collection.slug,
        "description": "",
        "visibility": "shared",
        "entries-TOTAL_FORMS": "1",
        "entries-INITIAL_FORMS": "1",
        "entries-0-id": entry.pk,
        "entries-0-collection": collection.pk,
        "entries-0-order": "1",
        "entries-0-case": retired.pk,
    }
    response = client.post(reverse("admin:collections_app_collection_change", args=[collection.pk]), data)
    assert response.status_code == 302
    added = {**data, "entries-0-case": make_case(status=Case.Status.RETIRED).pk}
    response = client.post(reverse("admin:collections_app_collection_change", args=[collection.pk]), added)
    assert response.status_code == 200, "a retired case is not offered to add"
