"""A case's history beyond its own fields: findings, differential, references, stages, images, annotations."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.history import case_part_changes
from cases.models import Case, CaseFinding, DifferentialEntry
from cases.tests.factories import make_case, make_image, make_series
from cases.tests.test_admin import case_form_data

pytestmark = pytest.mark.django_db

ARROW = {"kind": "arrow", "x1": 0.1, "y1": 0.1, "x2": 0.4, "y2": 0.5, "label": "rim", "after_reveal": True}
CIRCLE = {"kind": "ellipse", "x1": 0.5, "y1": 0.5, "x2": 0.7, "y2": 0.8, "label": "", "after_reveal": True}


def test_a_finding_changed_in_the_authoring_screen_is_recorded_with_who_and_which_field(client, faculty):
    case = make_case(status=Case.Status.DRAFT, authors=[faculty], number="hx101", findings=["Old finding"])
    finding = case.findings.get()
    client.force_login(faculty)
    data = case_form_data(number="hx101", authors=[faculty.pk])
    data |= {"findings-TOTAL_FORMS": 1, "findings-INITIAL_FORMS": 1, "findings-0-id": finding.pk}
    data |= {"findings-0-case": case.pk, "findings-0-order": 1, "findings-0-text": "Mature cortex"}
    assert client.post(reverse("admin:cases_case_change", args=[case.pk]), data).status_code == 302

    latest = case_part_changes(case)[0]
    assert (latest.part, latest.name, latest.action, latest.who) == ("Finding", "Mature cortex", "changed", faculty)
    assert latest.fields == ["text"]
    page = client.get(reverse("admin:cases_case_history", args=[case.pk])).content.decode()
    assert 'id="part-history"' in page and "Mature cortex" in page and "changed: text" in page


def test_additions_and_deletions_of_each_part_are_listed_newest_first():
    case = make_case()
    entry = DifferentialEntry.objects.create(case=case, diagnosis="Myositis", reasoning="Less likely: no rim.")
    CaseFinding.objects.create(case=case, text="A rim of bone")
    entry.delete()
    changes = [(change.part, change.name, change.action) for change in case_part_changes(case)]
    assert changes == [
        ("Differential", "Myositis", "deleted"),
        ("Finding", "A rim of bone", "added"),
        ("Differential", "Myositis", "added"),
    ]


def test_a_stage_deleted_with_its_images_shows_as_two_rows_not_one_per_image():
    case = make_case()
    series = make_series(case=case)
    for order in range(1, 5):
        make_image(series=series, order=order)
    series.delete()
    deleted = [change for change in case_part_changes(case) if change.action == "deleted"]
    assert [(change.part, change.count) for change in sorted(deleted, key=lambda change: change.part)] == [
        ("Image", 4),
        ("Stage", 1),
    ]


def test_saving_the_same_annotations_again_records_nothing_and_a_change_records_only_itself():
    image = make_image(series=make_series(case=make_case()))
    services.image_set_annotations(image=image, annotations=[ARROW])
    kept = image.annotations.get()
    before = len(case_part_changes(image.series.case))
    services.image_set_annotations(image=image, annotations=[ARROW])
    assert len(case_part_changes(image.series.case)) == before
    services.image_set_annotations(image=image, annotations=[ARROW, CIRCLE])
    assert image.annotations.filter(pk=kept.pk).exists(), "the unchanged arrow keeps its row"
    latest = case_part_changes(image.series.case)[0]
    assert (latest.part, latest.action) == ("Annotation", "added")
    services.image_set_annotations(image=image, annotations=[CIRCLE])
    latest = case_part_changes(image.series.case)[0]
    assert (latest.part, latest.name, latest.action) == ("Annotation", "Arrow rim", "deleted")


@pytest.mark.parametrize("edits", [1, 8])
def test_reading_the_history_takes_the_same_queries_however_long_it_is(edits):
    case = make_case(findings=["First"])
    finding = case.findings.get()
    for number in range(edits):
        finding.text = f"Edit {number}"
        finding.save()
    make_series(case=case)
    with CaptureQueriesContext(connection) as queries:
        changes = case_part_changes(case)
    assert sum(change.count for change in changes) == edits + 2
    assert len(queries) == 7  # one per kind of part


def test_a_malformed_history_address_is_not_found(client, faculty):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    history = reverse("admin:cases_case_history", args=[case.pk])
    assert client.get(history.replace("/history/", "/change/history/")).status_code == 404
    assert client.get(f"{history}not-a-version/").status_code == 404


def test_saving_untouched_text_as_a_browser_posts_it_records_no_change(client, faculty):
    case = make_case(status=Case.Status.DRAFT, authors=[faculty], number="hx201", discussion="First line\nSecond line")
    finding = CaseFinding.objects.create(case=case, text="A rim\nof bone")
    client.force_login(faculty)
    data = case_form_data(number="hx201", authors=[faculty.pk], discussion="First line\r\nSecond line")
    data |= {"findings-TOTAL_FORMS": 1, "findings-INITIAL_FORMS": 1, "findings-0-id": finding.pk}
    data |= {"findings-0-case": case.pk, "findings-0-order": 0, "findings-0-text": "A rim\r\nof bone"}
    assert client.post(reverse("admin:cases_case_change", args=[case.pk]), data).status_code == 302
    case.refresh_from_db()
    assert case.discussion == "First line\nSecond line"
    latest, previous = case.history.all()[:2]
    assert "discussion" not in [change.field for change in latest.diff_against(previous).changes]
    assert [change.action for change in case_part_changes(case)] == ["added"], "the finding was not saved again"


def test_identical_marks_are_kept_once_each_and_the_rest_deleted():
    image = make_image(series=make_series(case=make_case()))
    for wanted, rows in (([ARROW, ARROW], 2), ([ARROW, ARROW], 2), ([ARROW], 1), ([], 0)):
        services.image_set_annotations(image=image, annotations=wanted)
        assert image.annotations.count() == rows


def test_a_stage_moved_to_another_case_takes_its_history_with_it():
    first, second = make_case(), make_case()
    series = make_series(case=first)
    image = make_image(series=series)
    series.case = second
    series.save()
    image.caption = "After the move"
    image.save()
    assert not [change for change in case_part_changes(first) if change.part == "Image"]
    assert [change.action for change in case_part_changes(second) if change.part == "Image"][0] == "changed"


def test_the_history_page_takes_the_same_queries_however_long_the_history(client, faculty):
    case = make_case(status=Case.Status.DRAFT, authors=[faculty], findings=["First"])
    finding = case.findings.get()
    client.force_login(faculty)
    url = reverse("admin:cases_case_history", args=[case.pk])
    counts = []
    for edits in (1, 6):
        for number in range(edits):
            finding.text = f"Edit {number}"
            finding._history_user = faculty
            finding.save()
            case.title = f"Title {edits}-{number}"
            case._history_user = faculty
            case.save()
        cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_old_version_cannot_be_posted_back(client, editor):
    """Reverting would put back an old status past the workflow's checks: the history is read only."""
    case = make_case(status=Case.Status.DRAFT, title="Old title")
    Case.objects.filter(pk=case.pk).update(title="New title", status=Case.Status.PUBLISHED)
    old = case.history.earliest("history_date")
    client.force_login(editor)
    url = reverse("admin:cases_case_simple_history", args=[case.pk, old.history_id])
    assert client.get(url).status_code == 200
    response = client.post(url, case_form_data(number=case.number, status="draft", title="Old title"))
    assert response.status_code == 403
    case.refresh_from_db()
    assert (case.title, case.status) == ("New title", Case.Status.PUBLISHED)


def test_a_gate_changed_on_its_stage_is_in_the_case_history():
    from cases.models import Gate
    from cases.tests.factories import make_gate

    case = make_case()
    gate = make_gate(series=make_series(case=case), question="What next?", reasoning="Why CT.")
    gate.reasoning = "Why CT: the cortex."
    gate.save()
    latest = case_part_changes(case)[0]
    assert (latest.part, latest.name, latest.action, latest.fields) == (
        "Gate",
        "Gate: What next?",
        "changed",
        [str(Gate._meta.get_field("reasoning").verbose_name)],
    )
