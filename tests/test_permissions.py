"""Every URL for every role: allowed or refused as designed; drafts stay invisible."""

import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone

from cases.models import Case, CaseFinding, CaseRevision
from cases.tests.factories import make_case, make_dicom_image, make_series, make_user
from collections_app.tests.factories import make_collection
from discussions.models import Comment, Notification
from ingest.models import IngestJob, ReceiverRoute
from quizzes import services
from quizzes.models import Attempt
from quizzes.tests.factories import make_click, make_quiz, make_sba

ROLES = ["anonymous", "resident", "faculty_owner", "faculty_other", "editor", "inactive"]
OK, LOGIN, NOT_FOUND, ADMIN_LOGIN, BAD, REDIRECT, FORBIDDEN = 200, "login", 404, "admin-login", 400, 302, 403


@pytest.fixture
def world(db, resident, faculty, other_faculty, editor):
    """A published and a draft case owned by ``faculty``, each with a pre- and a post-reveal image."""
    inactive = make_user("inactive-t", "resident", is_active=False)
    cases = {}
    for status in (Case.Status.PUBLISHED, Case.Status.DRAFT):
        case = make_case(status=status, authors=[faculty])
        shown = make_dicom_image(series=make_series(case=case))
        hidden = make_dicom_image(series=make_series(case=case, after_reveal=True))
        cases[status] = (case, shown, hidden)
    quiz, attempt, click = quiz_world(cases[Case.Status.PUBLISHED], resident)
    quiz.authors.set([faculty])
    cases["quiz"] = (quiz, attempt, click)
    cases["import"] = IngestJob.objects.create(case=cases[Case.Status.DRAFT][0], created_by=faculty)
    cases["route"] = ReceiverRoute.objects.create(ae_title="TF_PERM", author=faculty)
    cases["revision"] = CaseRevision.objects.create(
        case=cases[Case.Status.PUBLISHED][0], author=faculty, data={"diagnosis": "Proposed"}
    )
    cases["comment"] = Comment.objects.create(case=cases[Case.Status.PUBLISHED][0], author=faculty, body="A note")
    statuses = (Case.Status.PUBLISHED, Case.Status.DRAFT)
    cases["findings"] = {status: CaseFinding.objects.create(case=cases[status][0], text="Seen") for status in statuses}
    cases["collection"] = make_collection(owner=faculty, cases=[cases[Case.Status.PUBLISHED][0]])
    users = {
        "resident": resident,
        "faculty_owner": faculty,
        "faculty_other": other_faculty,
        "editor": editor,
        "inactive": inactive,
    }
    return cases, users


def quiz_world(published, resident):
    """A published quiz with a click-the-finding question on the published case, and the resident's attempt."""
    case, shown, _ = published
    click = make_click(case=case, series=shown.series, key="click-perm")
    quiz = make_quiz(questions=[click, make_sba()])
    return quiz, services.attempt_start(quiz=quiz, user=resident), click


def client_as(role: str, users: dict) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    return client


def url_table(cases) -> list[tuple[str, str, str, dict]]:
    """(route name, method, url, {role: expected}) for every URL of the site."""
    published, shown, hidden = cases[Case.Status.PUBLISHED]
    draft, draft_shown, _ = cases[Case.Status.DRAFT]
    readers = {"anonymous": LOGIN, "resident": OK, "faculty_owner": OK, "faculty_other": OK, "editor": OK}
    readers["inactive"] = LOGIN
    owners_only = {"anonymous": LOGIN, "resident": NOT_FOUND, "faculty_owner": OK, "faculty_other": NOT_FOUND}
    owners_only |= {"editor": OK, "inactive": LOGIN}
    media_readers = {**readers, "anonymous": NOT_FOUND, "inactive": NOT_FOUND}
    media_owners = {**owners_only, "anonymous": NOT_FOUND, "inactive": NOT_FOUND}
    staff = {"anonymous": ADMIN_LOGIN, "resident": ADMIN_LOGIN, "faculty_owner": OK, "faculty_other": OK}
    staff |= {"editor": OK, "inactive": ADMIN_LOGIN}
    own_admin = {**staff, "faculty_other": REDIRECT}
    own_image = {**staff, "faculty_other": NOT_FOUND}
    editors_admin = {**staff, "faculty_owner": FORBIDDEN, "faculty_other": FORBIDDEN}
    own_history = {**staff, "faculty_other": FORBIDDEN}
    reveal = {**readers, "anonymous": LOGIN, "resident": REDIRECT, "faculty_owner": REDIRECT}
    reveal |= {"faculty_other": REDIRECT, "editor": REDIRECT}
    media = lambda name: reverse("cases:media-file", args=[name])  # noqa: E731
    values = lambda pk: reverse("cases:image-values", args=[pk])  # noqa: E731
    owner_reveal = {**owners_only, "faculty_owner": REDIRECT, "editor": REDIRECT}
    gate_answer = {**readers, "anonymous": LOGIN} | dict.fromkeys(
        ("resident", "faculty_owner", "faculty_other", "editor"), BAD
    )
    owner_gate_answer = {**owners_only, "faculty_owner": BAD, "editor": BAD}
    not_revealed = dict.fromkeys(("resident", "faculty_owner", "faculty_other", "editor"), BAD)
    quiz, attempt, click = cases["quiz"]
    logged_in = {**readers, "anonymous": LOGIN}
    moved_on = dict.fromkeys(("resident", "faculty_owner", "faculty_other", "editor"), REDIRECT)
    own_attempt = {"anonymous": LOGIN, "inactive": LOGIN, "faculty_owner": NOT_FOUND, "faculty_other": NOT_FOUND}
    own_attempt |= {"editor": NOT_FOUND}
    link_finding = {**owners_only, "faculty_owner": BAD, "editor": BAD}
    finding_url = lambda status: reverse(  # noqa: E731
        "cases:finding-view-link", args=[cases["findings"][status].case.number, cases["findings"][status].pk]
    )
    attempt_url = lambda name, *args: reverse(f"quizzes:{name}", args=[attempt.pk, *args])  # noqa: E731
    comment = cases["comment"]
    comment_url = lambda name: reverse(f"discussions:{name}", args=[comment.pk])  # noqa: E731
    discussion = {**owners_only}  # before a reveal: the case's editors only
    own_comment = {**owners_only, "editor": NOT_FOUND}
    moderators = dict.fromkeys(ROLES, FORBIDDEN) | {"editor": REDIRECT}
    thread_post = {**discussion, "faculty_owner": BAD, "editor": BAD}
    flaggers = {**discussion, "faculty_owner": REDIRECT, "editor": REDIRECT}
    own_case_admin = {**staff, "faculty_other": FORBIDDEN}
    everyone = dict.fromkeys(ROLES, OK)
    job = cases["import"]
    revision_url = lambda name: reverse(f"admin:cases_caserevision_{name}", args=[cases["revision"].pk])  # noqa: E731
    # Reveals come last: they change what the same reader may fetch afterwards; logging out ends the table.
    return [
        ("login", "get", reverse("login"), everyone),
        ("accounts:login-page", "get", reverse("accounts:login-page"), everyone),
        ("password_change", "get", reverse("password_change"), logged_in),
        ("password_change_done", "get", reverse("password_change_done"), logged_in),
        ("password_reset", "get", reverse("password_reset"), everyone),
        ("password_reset_done", "get", reverse("password_reset_done"), everyone),
        ("password_reset_confirm", "get", reverse("password_reset_confirm", args=["MQ", "set-password"]), everyone),
        ("password_reset_complete", "get", reverse("password_reset_complete"), everyone),
        ("admin:cases_case_dicom", "get", reverse("admin:cases_case_dicom", args=[draft.pk]), own_case_admin),
        ("admin:cases_case_from_study", "get", reverse("admin:cases_case_from_study"), staff),
        (
            "admin:cases_case_dicom_progress",
            "get",
            reverse("admin:cases_case_dicom_progress", args=[draft.pk, job.token]),
            own_case_admin,
        ),
        (
            "admin:cases_case_image_check",
            "get",
            reverse("admin:cases_case_image_check", args=[draft.pk]),
            own_case_admin,
        ),
        ("admin:cases_case_package", "get", reverse("admin:cases_case_package", args=[draft.pk]), own_case_admin),
        ("admin:cases_case_package_import", "get", reverse("admin:cases_case_package_import"), staff),
        ("admin:quizzes_quiz_results", "get", reverse("admin:quizzes_quiz_results", args=[quiz.pk]), own_case_admin),
        (
            "admin:quizzes_quiz_results_csv",
            "get",
            reverse("admin:quizzes_quiz_results_csv", args=[quiz.pk]),
            own_case_admin,
        ),
        (
            "admin:quizzes_question_case_images",
            "get",
            reverse("admin:quizzes_question_case_images", args=[published.pk]),
            own_case_admin,
        ),
        ("cases:home", "get", reverse("cases:home"), readers),
        ("cases:case-list", "get", reverse("cases:case-list"), readers),
        ("cases:case-done-list", "get", reverse("cases:case-done-list"), readers),
        ("cases:case-detail", "get", published.get_absolute_url(), readers),
        ("cases:case-detail", "get", draft.get_absolute_url(), owners_only),
        ("cases:case-viewer", "get", reverse("cases:case-viewer", args=[published.number]), readers),
        ("cases:case-viewer", "get", reverse("cases:case-viewer", args=[draft.number]), owners_only),
        ("cases:case-viewer-data", "get", reverse("cases:case-viewer-data", args=[published.number]), readers),
        ("cases:case-viewer-data", "get", reverse("cases:case-viewer-data", args=[draft.number]), owners_only),
        ("cases:topic-list", "get", reverse("cases:topic-list"), readers),
        ("cases:topic-names", "get", reverse("cases:topic-names"), readers),
        ("cases:topic-detail", "get", reverse("cases:topic-detail", args=["heterotopic-ossification"]), readers),
        ("cases:media-file", "get", media(shown.file.name), media_readers),
        ("cases:media-file", "get", media(shown.thumbnail.name), media_readers),
        ("cases:media-file", "get", media(hidden.file.name), media_owners),
        ("cases:media-file", "get", media(draft_shown.file.name), media_owners),
        ("cases:image-values", "get", values(shown.pk), media_readers),
        ("cases:image-values", "get", values(hidden.pk), media_owners),
        ("cases:image-values", "get", values(draft_shown.pk), media_owners),
        ("cases:series-values", "get", reverse("cases:series-values", args=[shown.series_id]), media_readers),
        ("cases:series-values", "get", reverse("cases:series-values", args=[hidden.series_id]), media_owners),
        ("cases:series-values", "get", reverse("cases:series-values", args=[draft_shown.series_id]), media_owners),
        ("quizzes:quiz-list", "get", reverse("quizzes:quiz-list"), logged_in),
        ("collections:collection-list", "get", reverse("collections:collection-list"), logged_in),
        ("collections:collection-detail", "get", cases["collection"].get_absolute_url(), logged_in),
        ("quizzes:quiz-detail", "get", quiz.get_absolute_url(), logged_in),
        ("quizzes:progress", "get", reverse("quizzes:progress"), logged_in),
        ("quizzes:review-queue", "get", reverse("quizzes:review-queue"), logged_in),
        ("quizzes:attempt-detail", "get", attempt_url("attempt-detail"), own_attempt | {"resident": OK}),
        ("quizzes:attempt-results", "get", attempt_url("attempt-results"), own_attempt | {"resident": REDIRECT}),
        ("quizzes:question-images", "get", attempt_url("question-images", click.pk), own_attempt | {"resident": OK}),
        ("discussions:thread", "get", reverse("discussions:thread", args=[published.number]), discussion),
        ("discussions:comment-edit", "get", comment_url("comment-edit"), own_comment),
        ("discussions:moderation", "get", reverse("discussions:moderation"), moderators | {"editor": OK}),
        ("discussions:notifications", "get", reverse("discussions:notifications"), logged_in),
        ("accounts:profile", "get", reverse("accounts:profile"), logged_in),
        ("accounts:email-change", "get", reverse("accounts:email-change"), logged_in),
        (
            "accounts:email-change-confirm",
            "get",
            reverse("accounts:email-change-confirm", args=["not-a-link"]),
            logged_in | dict.fromkeys(("resident", "faculty_owner", "faculty_other", "editor"), BAD),
        ),
        ("accounts:signup", "get", reverse("accounts:signup"), dict.fromkeys(ROLES, NOT_FOUND)),  # open sign-up off
        (
            "accounts:signup-invited",
            "get",
            reverse("accounts:signup-invited", args=["no-such"]),
            dict.fromkeys(ROLES, NOT_FOUND),
        ),
        (
            "accounts:signup-activate",
            "get",
            reverse("accounts:signup-activate", args=["no-such"]),
            dict.fromkeys(ROLES, NOT_FOUND),  # open sign-up off
        ),
        ("accounts:password-reset", "get", reverse("accounts:password-reset"), dict.fromkeys(ROLES, OK)),
        (
            "accounts:password-reset-confirm",
            "get",
            reverse("accounts:password-reset-confirm", args=["MQ", "set-password"]),
            everyone,
        ),
        ("admin:index", "get", reverse("admin:index"), staff),
        ("view-on-site", "get", view_on_site(published), {**own_image, "faculty_owner": REDIRECT, "editor": REDIRECT}),
        ("view-on-site", "get", view_on_site(draft), {**own_image, "faculty_owner": REDIRECT, "editor": REDIRECT}),
        ("admin:cases_case_change", "get", reverse("admin:cases_case_change", args=[published.pk]), own_admin),
        ("admin:cases_case_change", "get", reverse("admin:cases_case_change", args=[draft.pk]), own_admin),
        ("admin:cases_series_change", "get", reverse("admin:cases_series_change", args=[shown.series_id]), own_admin),
        ("admin:cases_image_annotations", "get", reverse("admin:cases_image_annotations", args=[shown.pk]), own_image),
        ("admin:cases_case_review_queue", "get", reverse("admin:cases_case_review_queue"), editors_admin),
        ("admin:cases_case_received", "get", reverse("admin:cases_case_received"), staff),
        ("admin:cases_case_history", "get", reverse("admin:cases_case_history", args=[draft.pk]), own_history),
        ("admin:cases_caserevision_review", "get", revision_url("review"), editors_admin),
        ("cases:case-assess", "post", reverse("cases:case-assess", args=[published.number]), readers | not_revealed),
        # Before the quiz entries: finishing the attempt reveals the case it asked about.
        (
            "discussions:comment-create",
            "post",
            reverse("discussions:comment-create", args=[published.number]),
            thread_post,
        ),
        ("discussions:comment-flag", "post", comment_url("comment-flag"), flaggers),
        ("discussions:comment-hide", "post", comment_url("comment-hide"), moderators),
        ("discussions:comment-restore", "post", comment_url("comment-restore"), moderators),
        (
            "discussions:comment-delete",
            "post",
            comment_url("comment-delete"),
            {**own_comment, "faculty_owner": REDIRECT},
        ),
        ("discussions:notifications-read", "post", reverse("discussions:notifications-read"), logged_in | moved_on),
        ("quizzes:attempt-answer", "post", attempt_url("attempt-answer"), own_attempt | {"resident": BAD}),
        # Neither a collection nor a name posted: refused back to the case page with a message, nothing added.
        (
            "collections:collection-add-case",
            "post",
            reverse("collections:collection-add-case", args=[published.number]),
            logged_in | moved_on,
        ),
        (
            "quizzes:review-case",
            "post",
            reverse("quizzes:review-case", args=[published.number]),
            logged_in | not_revealed,
        ),
        ("quizzes:review-start", "post", reverse("quizzes:review-start"), logged_in | moved_on),
        (
            "quizzes:review-case-open",
            "post",
            reverse("quizzes:review-case-open", args=[published.number]),
            logged_in | dict.fromkeys(("resident", "faculty_owner", "faculty_other", "editor"), NOT_FOUND),
        ),
        ("quizzes:quiz-start", "post", reverse("quizzes:quiz-start", args=[quiz.slug]), logged_in | moved_on),
        ("quizzes:attempt-finish", "post", attempt_url("attempt-finish"), own_attempt | {"resident": REDIRECT}),
        # No view posted: refused as incomplete; an author's change to a published case goes through an editor.
        (
            "cases:finding-view-link",
            "post",
            finding_url(Case.Status.PUBLISHED),
            link_finding | {"faculty_owner": FORBIDDEN},
        ),
        ("cases:finding-view-link", "post", finding_url(Case.Status.DRAFT), link_finding),
        # The case has no gate: the answer is refused as not the next question, after the usual access checks.
        ("cases:gate-answer", "post", reverse("cases:gate-answer", args=[published.number, 1]), gate_answer),
        ("cases:gate-answer", "post", reverse("cases:gate-answer", args=[draft.number, 1]), owner_gate_answer),
        ("cases:case-reveal", "post", reverse("cases:case-reveal", args=[published.number]), reveal),
        ("cases:case-reveal", "post", reverse("cases:case-reveal", args=[draft.number]), owner_reveal),
        # No files: the form answers again with its errors, and no case is made.
        ("admin:cases_case_from_study", "post", reverse("admin:cases_case_from_study"), staff),
        # No stage listed: nothing is confirmed, and the author is sent back to the case.
        (
            "admin:cases_case_confirm_labels",
            "post",
            reverse("admin:cases_case_confirm_labels", args=[draft.pk]),
            own_case_admin | {"faculty_owner": REDIRECT, "editor": REDIRECT},
        ),
        # No file: the import page answers with its form again and imports nothing.
        (
            "admin:cases_case_package_import",
            "post",
            reverse("admin:cases_case_package_import"),
            staff | dict.fromkeys(("faculty_owner", "faculty_other", "editor"), BAD),
        ),
        # No case posted: the route's next studies each become a new draft; its author and editors only.
        (
            "admin:cases_case_receiver_destination",
            "post",
            reverse("admin:cases_case_receiver_destination", args=[cases["route"].pk]),
            own_case_admin | {"faculty_owner": REDIRECT, "editor": REDIRECT},
        ),
        # Nothing ticked: the check page answers with its form again and changes nothing.
        (
            "admin:cases_case_image_check",
            "post",
            reverse("admin:cases_case_image_check", args=[draft.pk]),
            own_case_admin,
        ),
        # A case that is not in review: editors find nothing to decide, others may not decide at all.
        (
            "admin:cases_case_review",
            "post",
            reverse("admin:cases_case_review", args=[draft.pk]),
            editors_admin | {"editor": NOT_FOUND},
        ),
        # Posted without a decision: refused back to the review page, nothing decided.
        ("admin:cases_caserevision_decide", "post", revision_url("decide"), editors_admin | {"editor": REDIRECT}),
        # The case's authors and editors withdraw its open revision; it is the last thing it does.
        (
            "admin:cases_caserevision_withdraw",
            "post",
            revision_url("withdraw"),
            own_case_admin | {"faculty_owner": REDIRECT, "editor": REDIRECT},
        ),
        ("logout", "post", reverse("logout"), dict.fromkeys(ROLES, LOGIN)),
    ]


def view_on_site(case: Case) -> str:
    """The admin's "view on site" shortcut for a case."""
    return reverse("view-on-site", args=[ContentType.objects.get_for_model(Case).pk, case.pk])


def check(response, expected, url: str, role: str) -> None:
    label = f"{role} {url}"
    if expected == LOGIN:
        assert response.status_code == 302 and reverse("login") in response["Location"], label
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302 and reverse("admin:login") in response["Location"], label
    elif expected == REDIRECT:
        assert response.status_code == 302 and reverse("login") not in response["Location"], label
    else:
        assert response.status_code == expected, f"{label}: {response.status_code}"


@pytest.mark.parametrize("role", ROLES)
def test_every_url_for_every_role(world, role):
    cases, users = world
    client = client_as(role, users)
    for _name, method, url, expected in url_table(cases):
        response = client.post(url, {"committed_answer": ""}) if method == "post" else client.get(url)
        check(response, expected[role], url, role)


WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@pytest.mark.parametrize("role", ROLES)
def test_no_get_writes_to_the_database(world, role):
    """A link prefetcher or a crawler follows links: GETs read, only POSTs write.

    The resident's attempt is past its deadline and everyone has an unread notification, so the pages that
    used to finish attempts and mark notifications read on GET are on their write paths.
    """
    cases, users = world
    _quiz, attempt, _click = cases["quiz"]
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    published = cases[Case.Status.PUBLISHED][0]
    for user in users.values():
        Notification.objects.create(user=user, case=published, message="Something happened.")
    client = client_as(role, users)
    for _name, method, url, _expected in url_table(cases):
        if method != "get":
            continue
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        writes = [query["sql"] for query in queries.captured_queries if WRITES.match(query["sql"])]
        assert writes == [], f"{role} GET {url} wrote: {writes}"


# The admin's own pages for each registered model, and its site-wide ones, keep Django's permission checks;
# every other admin page is ours and needs its row.
DJANGO_ADMIN_PAGES = re.compile(
    r"(.+_(changelist|add|change|delete|history|simple_history)|app_list|autocomplete|index|jsi18n|login|logout"
    r"|password_change|password_change_done|view_on_site)$"
)


def test_the_table_covers_every_url_of_the_site(world):
    cases, _ = world
    covered = {name for name, *_ in url_table(cases)}
    resolver = get_resolver()
    site_routes = {name for name in resolver.reverse_dict if isinstance(name, str)}
    for namespace in ("cases", "quizzes", "collections", "discussions", "accounts", "admin"):
        names = resolver.namespace_dict[namespace][1].reverse_dict
        site_routes |= {
            f"{namespace}:{name}"
            for name in names
            if isinstance(name, str) and not (namespace == "admin" and DJANGO_ADMIN_PAGES.match(name))
        }
    assert site_routes <= covered, f"add these URLs to the permission table: {site_routes - covered}"
    assert set(resolver.namespace_dict) == {"cases", "quizzes", "collections", "discussions", "accounts", "admin"}


@override_settings(TEACHINGFILE_ANONYMOUS_BROWSING=True)
def test_anonymous_browsing_setting_opens_published_public_cases_only(world):
    cases, _ = world
    client = Client()
    published = cases[Case.Status.PUBLISHED][0]
    assert client.get(published.get_absolute_url()).status_code == 404, "institution cases need an account"
    Case.objects.filter(pk=published.pk).update(access=Case.Access.PUBLIC)
    assert client.get(published.get_absolute_url()).status_code == 200
    assert client.get(cases[Case.Status.DRAFT][0].get_absolute_url()).status_code == 404
    assert client.get(reverse("cases:case-list")).status_code == 200


def test_drafts_never_listed_for_residents(world, resident):
    cases, _ = world
    client = Client()
    client.force_login(resident)
    draft = cases[Case.Status.DRAFT][0]
    body = client.get(reverse("cases:case-list") + "?q=" + draft.number).content.decode()
    assert draft.get_absolute_url() not in body
    assert draft.title not in body


@pytest.mark.parametrize("role", ["resident", "editor"])
def test_every_state_changing_request_needs_the_csrf_token(world, role):
    cases, users = world
    published = cases[Case.Status.PUBLISHED][0]
    forms = [url for _name, method, url, _ in url_table(cases) if method == "post"]
    forms += [reverse("login"), reverse("password_reset"), reverse("password_change"), reverse("accounts:profile")]
    forms += [reverse("accounts:email-change"), reverse("accounts:email-change-confirm", args=["a-link"])]
    forms += [reverse("admin:cases_case_change", args=[published.pk]), reverse("admin:accounts_invitation_add")]
    client = Client(enforce_csrf_checks=True)
    client.force_login(users[role])
    for url in forms:
        response = client.post(url, {"committed_answer": "forged", "body": "forged", "email": "x@example.org"})
        assert response.status_code == 403, f"{role} {url}: {response.status_code}"
    assert not published.reveals.exists() and not Comment.objects.filter(body="forged").exists()
