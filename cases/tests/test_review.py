"""The editorial workflow: the review queue, returns with comments, notifications, and each case's history."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from cases import services
from cases.models import Case, CaseReview
from cases.tests.factories import make_case, make_series
from cases.workflow import StatusChangeRefused
from discussions.models import Notification

QUEUE = reverse("admin:cases_case_review_queue")


def decide(client, case: Case, decision: str, comments: str = ""):
    return client.post(reverse("admin:cases_case_review", args=[case.pk]), {"decision": decision, "comments": comments})


@pytest.fixture
def submitted(faculty, editor, django_capture_on_commit_callbacks):
    """A case of ``faculty``, who has an e-mail address, submitted for review by them."""
    faculty.email = "author@example.org"
    faculty.save()
    case = make_case(status=Case.Status.DRAFT, authors=[faculty])
    services.case_set_status(case=case, status=Case.Status.IN_REVIEW, by=faculty)
    return case


def test_submitting_a_case_tells_the_editors(submitted, editor, faculty):
    assert submitted.submitted_at is not None
    note = Notification.objects.get(user=editor, case=submitted)
    assert submitted.number in note.message and "review" in note.message
    assert not Notification.objects.filter(user=faculty).exists()


def test_submitting_through_the_change_form_tells_the_editors(client, faculty, editor):
    from cases.tests.test_admin import case_form_data

    case = make_case(status=Case.Status.DRAFT, authors=[faculty], number="rv201")
    client.force_login(faculty)
    data = case_form_data(number="rv201", status="review", authors=[faculty.pk])
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW
    assert Notification.objects.filter(user=editor, case=case).exists()


def test_the_queue_lists_cases_in_review_oldest_first_with_authors_and_preview(client, editor, faculty):
    first = make_case(status=Case.Status.DRAFT, authors=[faculty], title="First in")
    second = make_case(status=Case.Status.DRAFT, authors=[faculty], title="Second in")
    draft = make_case(status=Case.Status.DRAFT, authors=[faculty], title="Still a draft")
    for case in (first, second):
        services.case_set_status(case=case, status=Case.Status.IN_REVIEW, by=faculty)
    client.force_login(editor)
    body = client.get(QUEUE).content.decode()
    assert body.index("First in") < body.index("Second in")
    assert draft.title not in body
    assert f"{first.get_absolute_url()}?preview=resident" in body
    assert "faculty-t" in body, "the authors are named"


def test_returning_with_comments_makes_a_draft_and_tells_the_author(
    client, submitted, editor, faculty, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, submitted, "return", "Crop the scout image.\nName no diagnosis in the title.")
    assert response.status_code == 302 and response["Location"] == QUEUE
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.DRAFT
    review = CaseReview.objects.get(case=submitted)
    assert review.decision == CaseReview.Decision.RETURNED and review.editor == editor
    assert "Crop the scout image." in review.comments
    note = Notification.objects.get(user=faculty, case=submitted)
    assert note.message.startswith(f"Your case {submitted.number} was returned with comments: Crop the scout")
    [message] = [m for m in mail.outbox if "author@example.org" in m.to]
    assert "Name no diagnosis in the title." in message.body


def test_the_author_sees_the_returned_comments_on_the_change_page(client, submitted, editor, faculty):
    services.case_return(case=submitted, by=editor, comments="Add the delayed-phase image.")
    client.force_login(faculty)
    body = client.get(reverse("admin:cases_case_change", args=[submitted.pk])).content.decode()
    assert 'id="returned-review"' in body and "Add the delayed-phase image." in body
    assert 'id="review-history"' in body


def test_returning_needs_comments(client, submitted, editor):
    client.force_login(editor)
    decide(client, submitted, "return", "   ")
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.IN_REVIEW
    assert not CaseReview.objects.exists()


def test_no_path_returns_a_case_without_comments(submitted, editor):
    with pytest.raises(StatusChangeRefused, match="comments"):
        services.case_set_status(case=submitted, status=Case.Status.DRAFT, by=editor)
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.IN_REVIEW


def test_the_return_action_asks_for_comments_then_returns_each_case_with_them(client, submitted, editor, faculty):
    published = make_case(status=Case.Status.PUBLISHED, authors=[faculty])
    selected = {"action": "return_to_draft", "_selected_action": [submitted.pk, published.pk]}
    client.force_login(editor)
    page = client.post(reverse("admin:cases_case_changelist"), selected)
    assert page.status_code == 200 and "Comments for the authors" in page.content.decode()
    refused = client.post(reverse("admin:cases_case_changelist"), selected | {"apply": "1", "comments": " "})
    assert "Write what the authors should change." in refused.content.decode()
    assert not CaseReview.objects.filter(decision=CaseReview.Decision.RETURNED).exists()

    done = client.post(reverse("admin:cases_case_changelist"), selected | {"apply": "1", "comments": "Fix the crop."})
    assert done.status_code == 302
    for case in (submitted, published):
        case.refresh_from_db()
        assert case.status == Case.Status.DRAFT
        assert case.reviews.get(decision=CaseReview.Decision.RETURNED).comments == "Fix the crop."
    assert Notification.objects.filter(user=faculty, message__contains="returned with comments").count() == 2


def test_the_change_form_returns_a_case_only_with_comments(client, editor, faculty):
    from cases.tests.test_admin import case_form_data

    case = make_case(status=Case.Status.PUBLISHED, authors=[faculty], number="rv501")
    url = reverse("admin:cases_case_change", args=[case.pk])
    client.force_login(editor)
    data = case_form_data(number="rv501", status="draft", authors=[faculty.pk])
    response = client.post(url, data)
    assert response.status_code == 200 and "Write what the authors should change" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.PUBLISHED
    assert client.post(url, data | {"review_comments": "Retitle it."}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT and case.reviews.get().comments == "Retitle it."


def test_the_return_comments_field_is_for_editors_on_cases_not_in_draft(client, editor, faculty):
    draft = make_case(status=Case.Status.DRAFT, authors=[faculty])
    published = make_case(status=Case.Status.PUBLISHED, authors=[faculty])
    client.force_login(editor)
    assert "review_comments" in client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()
    assert "review_comments" not in client.get(reverse("admin:cases_case_change", args=[draft.pk])).content.decode()
    client.force_login(faculty)
    assert "review_comments" not in client.get(reverse("admin:cases_case_change", args=[published.pk])).content.decode()


def test_publishing_from_the_queue_tells_the_author(
    client, submitted, editor, faculty, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, submitted, "publish")
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.PUBLISHED and submitted.published_at is not None
    assert CaseReview.objects.get(case=submitted).decision == CaseReview.Decision.PUBLISHED
    assert Notification.objects.get(user=faculty, case=submitted).message == (
        f"Your case {submitted.number} was published."
    )
    assert any("author@example.org" in message.to for message in mail.outbox)


def test_the_queue_shows_why_a_case_cannot_be_published(client, submitted, editor):
    make_series(case=submitted, label_confirmed=False)
    client.force_login(editor)
    response = decide(client, submitted, "publish")
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.IN_REVIEW
    body = client.get(response["Location"]).content.decode()
    assert "Stage 1 · Radiograph: label and caption need confirming" in body


def test_faculty_can_neither_open_the_queue_nor_decide(client, submitted, faculty):
    client.force_login(faculty)
    assert client.get(QUEUE).status_code == 403
    assert decide(client, submitted, "publish").status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.IN_REVIEW


def test_decisions_are_posted_with_a_csrf_token(submitted, editor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert decide(client, submitted, "publish").status_code == 403


def test_a_long_comment_is_cut_in_the_notification_but_whole_in_the_review(submitted, editor, faculty):
    services.case_return(case=submitted, by=editor, comments="Too long. " * 100)
    note = Notification.objects.get(user=faculty, case=submitted)
    assert len(note.message) <= 300 and note.message.endswith("…")
    assert len(CaseReview.objects.get(case=submitted).comments) > 900


def test_history_records_a_title_change_with_who_made_it(client, faculty):
    from cases.tests.test_admin import case_form_data

    case = make_case(status=Case.Status.DRAFT, authors=[faculty], number="rv301", title="Old title")
    client.force_login(faculty)
    data = case_form_data(number="rv301", title="New title", authors=[faculty.pk])
    assert client.post(reverse("admin:cases_case_change", args=[case.pk]), data).status_code == 302
    latest, previous = case.history.all()[:2]
    assert latest.history_user == faculty
    delta = latest.diff_against(previous)
    assert ("title", "Old title", "New title") in [(change.field, change.old, change.new) for change in delta.changes]


def test_history_keeps_no_de_identification_keys(faculty):
    case = make_case(authors=[faculty])
    fields = {field.name for field in case.history.model._meta.get_fields()}
    assert "deid_secret" not in fields and "date_offset_days" not in fields


@pytest.mark.parametrize(("who", "status"), [("faculty", 200), ("editor", 200), ("other_faculty", 403)])
def test_a_case_history_is_shown_to_its_authors_and_editors_only(client, request, faculty, who, status):
    case = make_case(status=Case.Status.DRAFT, authors=[faculty], title="Historic title")
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("admin:cases_case_history", args=[case.pk]))
    assert response.status_code == status
    record = case.history.latest()
    version = client.get(reverse("admin:cases_case_simple_history", args=[case.pk, record.pk]))
    assert version.status_code == status


def test_an_old_version_cannot_be_saved_over_the_case(client, faculty):
    from cases.tests.test_admin import case_form_data

    case = make_case(status=Case.Status.DRAFT, authors=[faculty], number="rv401")
    record = case.history.latest()
    client.force_login(faculty)
    url = reverse("admin:cases_case_simple_history", args=[case.pk, record.pk])
    assert client.post(url, case_form_data(number="rv401", status="published")).status_code == 403
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_the_case_list_links_the_queue_for_editors_only(client, editor, faculty):
    client.force_login(editor)
    assert QUEUE in client.get(reverse("admin:cases_case_changelist")).content.decode()
    client.force_login(faculty)
    assert QUEUE not in client.get(reverse("admin:cases_case_changelist")).content.decode()


def test_comments_without_a_return_are_refused_not_dropped(client, editor, faculty):
    from cases.tests.test_admin import case_form_data

    case = make_case(status=Case.Status.PUBLISHED, authors=[faculty], number="rv601")
    client.force_login(editor)
    data = case_form_data(number="rv601", status="published", authors=[faculty.pk], review_comments="Retitle it.")
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 200 and "Comments go with a return" in response.content.decode()
    assert not case.reviews.exists()


@pytest.mark.parametrize("decision", ["return", "publish"])
def test_the_decision_message_keeps_the_case_number_in_lower_case(client, submitted, editor, decision):
    client.force_login(editor)
    decide(client, submitted, decision, "Looks fine.")
    [message] = re.findall(r'<li class="(?:success|error|info)">([^<]*)</li>', client.get(QUEUE).content.decode())
    assert message.startswith(f"Case {submitted.number} "), message


def test_the_bulk_action_message_says_case_or_cases(client, editor, faculty):
    drafts = [make_case(status=Case.Status.DRAFT, authors=[faculty]) for _ in range(3)]
    client.force_login(faculty)
    changelist = reverse("admin:cases_case_changelist")
    for chosen, said in ([drafts[:1], "1 case now in review."], [drafts[1:], "2 cases now in review."]):
        data = {"action": "submit_for_review", "_selected_action": [case.pk for case in chosen]}
        page = client.post(changelist, data, follow=True).content.decode()
        assert said in page
