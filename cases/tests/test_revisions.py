"""Edits to published cases: a faculty author's changes wait for an editor; readers keep the published case."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import revisions
from cases.models import Case, CaseFinding, CaseRevision, Series
from cases.tests.factories import make_case, make_image, make_series
from cases.tests.test_admin import case_form_data
from discussions.models import Notification

QUEUE = reverse("admin:cases_case_review_queue")


@pytest.fixture
def published(faculty):
    """A published case of ``faculty`` with two findings."""
    case = make_case(
        authors=[faculty],
        number="rev101",
        diagnosis="Heterotopic ossification",
        findings=["Bone around the hip.", "Mature cortex."],
    )
    return case


def form_data(case: Case, **overrides) -> dict:
    """The authoring screen's form for this case as stored, its findings included, with ``overrides``."""
    data = case_form_data(
        number=case.number,
        title=case.title,
        status=case.status,
        diagnosis=case.diagnosis,
        brief_history=case.brief_history,
        authors=[author.pk for author in case.authors.all()],
        patient_age_years="",
        patient_sex=case.patient_sex,
        difficulty=case.difficulty,
        quality=case.quality,
    )
    findings = list(case.findings.all())
    data |= {"findings-TOTAL_FORMS": len(findings), "findings-INITIAL_FORMS": len(findings)}
    for index, finding in enumerate(findings):
        data |= {f"findings-{index}-id": finding.pk, f"findings-{index}-case": case.pk}
        data |= {f"findings-{index}-order": finding.order, f"findings-{index}-text": finding.text}
    return data | overrides


def edit(client, case: Case, **overrides):
    return client.post(reverse("admin:cases_case_change", args=[case.pk]), form_data(case, **overrides))


def reveal_page(client, case: Case) -> str:
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    return client.get(case.get_absolute_url()).content.decode()


def propose_new_diagnosis(client, faculty, case: Case) -> CaseRevision:
    client.force_login(faculty)
    response = edit(client, case, diagnosis="Myositis ossificans", **{"findings-1-text": "Immature rim."})
    assert response.status_code == 302, response.content.decode()[:3000]
    return CaseRevision.objects.get(case=case, status=CaseRevision.Status.PENDING)


def test_a_faculty_edit_of_a_published_diagnosis_waits_and_residents_keep_the_published_case(
    client, published, faculty, editor, resident
):
    revision = propose_new_diagnosis(client, faculty, published)
    published.refresh_from_db()
    assert published.diagnosis == "Heterotopic ossification"
    assert list(published.findings.values_list("text", flat=True)) == ["Bone around the hip.", "Mature cortex."]
    assert revision.author == faculty and revision.data["diagnosis"] == "Myositis ossificans"
    assert set(revision.data) == {"diagnosis", "findings"}, "only what changed is proposed"
    assert Notification.objects.filter(user=editor, case=published).exists()
    reader = Client()
    reader.force_login(resident)
    page = reveal_page(reader, published)
    assert "Heterotopic ossification" in page and "Mature cortex." in page
    assert "Myositis ossificans" not in page and "Immature rim." not in page


def test_after_approval_residents_see_the_new_diagnosis_recorded_with_editor_and_author(
    client, published, faculty, editor, resident, django_capture_on_commit_callbacks
):
    faculty.email = "author@example.org"
    faculty.save()
    revision = propose_new_diagnosis(client, faculty, published)
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:cases_caserevision_decide", args=[revision.pk]), {"decision": "approve"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    reader = Client()
    reader.force_login(resident)
    page = reveal_page(reader, published)
    assert "Myositis ossificans" in page and "Immature rim." in page and "Heterotopic ossification" not in page
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.APPROVED and revision.editor == editor
    latest = published.history.latest()
    assert latest.history_user == editor
    assert "faculty-t" in latest.history_change_reason and "editor-t" in latest.history_change_reason
    finding = CaseFinding.history.filter(text="Immature rim.").latest()
    assert finding.history_user == editor and f"Revision {revision.pk}" in finding.history_change_reason
    assert any("author@example.org" in message.to and "approved" in message.body for message in mail.outbox)


def test_the_author_reopening_the_case_sees_and_edits_the_proposed_values(client, published, faculty):
    revision = propose_new_diagnosis(client, faculty, published)
    page = client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    assert "Readers still see the published version; your changes wait for an editor" in page
    assert 'value="Myositis ossificans"' in page and "Immature rim." in page
    edit(client, published, diagnosis="Myositis ossificans, mature", **{"findings-1-text": "Immature rim."})
    [again] = CaseRevision.objects.filter(case=published)
    assert again.pk == revision.pk and again.data["diagnosis"] == "Myositis ossificans, mature"
    assert again.data["findings"][1]["text"] == "Immature rim."


def test_undoing_every_change_withdraws_the_revision(client, published, faculty):
    revision = propose_new_diagnosis(client, faculty, published)
    response = edit(client, published)
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.WITHDRAWN


def test_an_added_and_a_deleted_finding_are_proposed_then_applied(client, published, faculty, editor):
    client.force_login(faculty)
    data = {"findings-TOTAL_FORMS": 3, "findings-0-DELETE": "on", "findings-2-order": 3, "findings-2-text": "New one."}
    assert edit(client, published, **data).status_code == 302
    assert published.findings.count() == 2
    page = client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    assert "New one." in page and "Bone around the hip." not in page
    revision = CaseRevision.objects.get(case=published)
    revisions.case_revision_approve(revision=revision, by=editor)
    assert list(published.findings.values_list("text", flat=True)) == ["Mature cortex.", "New one."]


def test_the_review_screen_and_history_show_the_change_as_an_escaped_diff(client, published, faculty, editor):
    client.force_login(faculty)
    edit(client, published, diagnosis="Heterotopic <b>ossification</b> of the hip")
    revision = CaseRevision.objects.get(case=published)
    client.force_login(editor)
    queue = client.get(QUEUE).content.decode()
    assert reverse("admin:cases_caserevision_review", args=[revision.pk]) in queue
    page = client.get(reverse("admin:cases_caserevision_review", args=[revision.pk])).content.decode()
    assert "<ins>&lt;b&gt;ossification&lt;/b&gt; of the hip</ins>" in page
    assert "<del>ossification</del>" in page and "<b>ossification</b>" not in page
    history = client.get(reverse("admin:cases_case_history", args=[published.pk])).content.decode()
    assert "<ins>&lt;b&gt;ossification&lt;/b&gt; of the hip</ins>" in history
    revisions.case_revision_approve(revision=revision, by=editor)
    history = client.get(reverse("admin:cases_case_history", args=[published.pk])).content.decode()
    assert "<del>ossification</del>" in history and "approved by editor-t" in history


def test_returning_needs_comments_and_tells_the_author_who_sees_them_and_can_send_again(
    client, published, faculty, editor
):
    revision = propose_new_diagnosis(client, faculty, published)
    client.force_login(editor)
    decide = reverse("admin:cases_caserevision_decide", args=[revision.pk])
    client.post(decide, {"decision": "return", "comments": ""})
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.PENDING
    client.post(decide, {"decision": "return", "comments": "Cite the biopsy."})
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.RETURNED and revision.comments == "Cite the biopsy."
    note = Notification.objects.get(user=faculty, case=published)
    assert "Cite the biopsy." in note.message
    published.refresh_from_db()
    assert published.diagnosis == "Heterotopic ossification"
    client.force_login(faculty)
    page = client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    assert "Cite the biopsy." in page and 'value="Myositis ossificans"' in page
    edit(client, published, diagnosis="Myositis ossificans (biopsy)")
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.PENDING
    assert revision.data["diagnosis"] == "Myositis ossificans (biopsy)"


def test_the_author_withdraws_their_changes(client, published, faculty):
    revision = propose_new_diagnosis(client, faculty, published)
    page = client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    withdraw = reverse("admin:cases_caserevision_withdraw", args=[revision.pk])
    # A form of its own after the case form, so that Enter in a field saves the case rather than withdrawing.
    case_form_end = page.index("</form>", page.index('id="case_form"'))
    assert page.index(f'<form id="revision-withdraw" method="post" action="{withdraw}">') > case_form_end
    response = client.post(reverse("admin:cases_caserevision_withdraw", args=[revision.pk]))
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.WITHDRAWN
    page = client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    assert 'value="Heterotopic ossification"' in page


@pytest.mark.parametrize("who", ["faculty", "other_faculty"])
def test_faculty_can_neither_see_nor_decide_a_revision(client, request, published, faculty, who):
    revision = propose_new_diagnosis(client, faculty, published)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("admin:cases_caserevision_review", args=[revision.pk])).status_code == 403
    decide = reverse("admin:cases_caserevision_decide", args=[revision.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 403
    published.refresh_from_db()
    assert published.diagnosis == "Heterotopic ossification"
    assert "Myositis" not in client.get(QUEUE).content.decode()


def test_a_resident_cannot_reach_the_revision_pages(client, published, faculty, resident):
    revision = propose_new_diagnosis(client, faculty, published)
    client.force_login(resident)
    for url in (
        reverse("admin:cases_caserevision_review", args=[revision.pk]),
        reverse("admin:cases_caserevision_decide", args=[revision.pk]),
        reverse("admin:cases_caserevision_withdraw", args=[revision.pk]),
    ):
        response = client.post(url, {"decision": "approve"}) if "review" not in url else client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.PENDING


def test_another_faculty_member_cannot_withdraw_a_revision(client, published, faculty, other_faculty):
    revision = propose_new_diagnosis(client, faculty, published)
    client.force_login(other_faculty)
    assert client.post(reverse("admin:cases_caserevision_withdraw", args=[revision.pk])).status_code == 403
    revision.refresh_from_db()
    assert revision.status == CaseRevision.Status.PENDING


def test_an_editor_edit_of_a_published_case_applies_at_once_and_history_shows_who_and_what(
    client, published, editor, resident
):
    client.force_login(editor)
    response = edit(client, published, diagnosis="Myositis ossificans")
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.diagnosis == "Myositis ossificans"
    assert not CaseRevision.objects.exists()
    history = client.get(reverse("admin:cases_case_history", args=[published.pk])).content.decode()
    row = history[history.index('id="change-history"') :]
    row = row[: row.index("</tr>", row.index("<tbody>"))]
    assert "editor-t" in row and "Heterotopic ossification → Myositis ossificans" in row


def test_stages_of_a_published_case_are_not_changed_by_its_faculty_author(client, published, faculty):
    series = make_series(case=published, caption="Before")
    client.force_login(faculty)
    data = {"series-TOTAL_FORMS": 1, "series-0-order": 2, "series-0-modality": "CT", "series-0-caption": "Sneaked in"}
    edit(client, published, **data)
    assert list(published.series.all()) == [series]
    stage = reverse("admin:cases_series_change", args=[series.pk])
    assert client.get(stage).status_code == 200
    assert client.post(stage, {"case": published.pk, "modality": "CT", "caption": "Changed"}).status_code == 403
    series.refresh_from_db()
    assert series.caption == "Before"
    dicom = reverse("admin:cases_case_dicom", args=[published.pk])
    assert dicom not in client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    response = client.get(dicom)
    assert response.status_code == 302
    assert not Series.objects.filter(case=published, caption="Sneaked in").exists()


def test_the_queue_takes_the_same_queries_however_many_revisions_wait(client, faculty, editor):
    def queue_queries() -> int:
        cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(QUEUE).status_code == 200
        return len(queries)

    client.force_login(editor)
    for number in range(3):
        case = make_case(authors=[faculty], number=f"revq{number}")
        revisions.case_revision_propose(case=case, by=faculty, data={"diagnosis": f"New {number}"})
        if number == 0:
            one = queue_queries()
    assert queue_queries() == one


def test_at_most_one_open_revision_per_case(published, faculty):
    CaseRevision.objects.create(case=published, author=faculty, data={"title": "A"})
    with pytest.raises(IntegrityError):
        CaseRevision.objects.create(case=published, author=faculty, data={"title": "B"})


def test_an_editor_opening_the_case_sees_the_published_values_and_a_link_to_the_waiting_changes(
    client, published, faculty, editor
):
    revision = propose_new_diagnosis(client, faculty, published)
    client.force_login(editor)
    page = client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    assert 'value="Heterotopic ossification"' in page and "Myositis" not in page
    assert reverse("admin:cases_caserevision_review", args=[revision.pk]) in page


def test_the_annotation_editor_shows_but_does_not_save_marks_of_a_published_case_for_its_author(
    client, published, faculty
):
    image = make_image(series=make_series(case=published))
    url = reverse("admin:cases_image_annotations", args=[image.pk])
    client.force_login(faculty)
    assert client.get(url).status_code == 200
    body = '{"annotations": [{"kind": "arrow", "points": [0.1, 0.1, 0.5, 0.5], "label": "", "after_reveal": true}]}'
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 403 and "through an editor" in response.content.decode()
    assert not image.annotations.exists()


def test_changes_proposed_before_a_return_to_draft_do_not_overwrite_the_authors_later_draft(
    client, published, faculty, editor
):
    """Once the case is a draft its authors edit it directly: approving the older proposal would undo that."""
    from cases import services

    revision = propose_new_diagnosis(client, faculty, published)
    services.case_set_status(case=published, status=Case.Status.DRAFT, by=editor, comments="Rework the findings.")
    published.refresh_from_db()
    assert edit(client, published, diagnosis="Fibrodysplasia ossificans progressiva").status_code == 302
    with pytest.raises(revisions.RevisionRefused, match="no longer published"):
        revisions.case_revision_approve(revision=revision, by=editor)
    published.refresh_from_db()
    assert published.diagnosis == "Fibrodysplasia ossificans progressiva"
    assert list(published.findings.values_list("text", flat=True)) == ["Bone around the hip.", "Mature cortex."]
