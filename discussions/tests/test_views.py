"""The discussion: spoilers only after the reveal, safe Markdown, own edits and deletions, flags and moderation."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from cases.models import Case
from cases.tests.factories import make_case, make_user
from discussions.models import Comment, Notification

pytestmark = pytest.mark.django_db


def revealed(client: Client, case: Case) -> Client:
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    return client


def post(client: Client, case: Case, body: str, parent: Comment | None = None):
    data = {"body": body} | ({"parent": parent.pk} if parent else {})
    return client.post(reverse("discussions:comment-create", args=[case.number]), data)


def thread(client: Client, case: Case) -> str:
    return client.get(reverse("discussions:thread", args=[case.number])).content.decode()


def test_the_discussion_opens_only_after_the_reveal(client, resident):
    case = make_case()
    client.force_login(resident)
    assert client.get(reverse("discussions:thread", args=[case.number])).status_code == 404
    assert post(client, case, "Early").status_code == 404
    assert not Comment.objects.exists()
    revealed(client, case)
    assert client.get(reverse("discussions:thread", args=[case.number])).status_code == 200
    assert reverse("discussions:thread", args=[case.number]) in client.get(case.get_absolute_url()).content.decode()


def test_a_comment_and_a_reply_render_markdown_and_tell_the_case_authors(
    client, resident, faculty, django_capture_on_commit_callbacks
):
    faculty.email = "faculty@example.org"
    faculty.save()
    case = make_case(authors=[faculty])
    client.force_login(resident)
    revealed(client, case)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, case, "The **rim** matures first; see [the slice](/cases/x/?series=1&slice=3).\n\n- one\n- two")
        comment = Comment.objects.get()
        post(client, case, "And `code`.", parent=comment)
    page = thread(client, case)
    assert "<strong>rim</strong>" in page and "<li>one</li>" in page and "<code>code</code>" in page
    assert 'href="/cases/x/?series=1&amp;slice=3"' in page
    assert Comment.objects.get(parent=comment).thread == comment
    assert Notification.objects.filter(user=faculty, case=case).count() == 2
    assert len(mail.outbox) == 2 and case.number in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("body", "absent"),
    [
        ("<script>alert(1)</script>", "<script>alert(1)"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ('<a href="#" onclick="steal()">x</a>', "onclick"),
    ],
)
def test_user_text_is_sanitised(client, resident, body, absent):
    case = make_case()
    client.force_login(resident)
    revealed(client, case)
    post(client, case, body)
    assert absent not in thread(client, case)


def test_an_overlong_comment_is_refused_with_a_message_and_nothing_stored(client, resident, caplog):
    case = make_case()
    client.force_login(resident)
    revealed(client, case)
    response = post(client, case, "x" * 100_000)
    assert response.status_code == 400 and "under 5,000 characters" in response.content.decode()
    assert response.context["form"]["body"].value() == "x" * 100_000, "the refused text comes back to be shortened"
    assert not Comment.objects.exists()
    assert "Refused a comment" in caplog.text


def test_every_comment_shows_its_writers_role_from_the_group_not_the_name(client, resident, faculty, editor):
    case = make_case(authors=[faculty])
    Profile.objects.create(user=resident, display_name="Dr Pretend (Faculty)")
    for author in (resident, faculty, editor, make_user("no-role-t")):
        Comment.objects.create(case=case, author=author, body=f"By {author.username}")
    client.force_login(editor)
    page = thread(client, case)
    shown = re.findall(r'class="comment-author">([^<]+)</strong>\s*<span class="tag tag-role tag-(\w+)"', page)
    assert shown == [
        ("Dr Pretend (Faculty)", "resident"),
        ("faculty-t", "faculty"),
        ("editor-t", "editor"),
        ("no-role-t", "reader"),
    ]
    assert page.count('class="tag tag-author"') == 1, "the case's author is marked too"


def test_ten_comments_in_ten_minutes_then_a_clear_refusal_keeping_the_text(
    client, resident, faculty, caplog, django_capture_on_commit_callbacks
):
    faculty.email = "faculty@example.org"
    faculty.save()
    case = make_case(authors=[faculty])
    client.force_login(resident)
    revealed(client, case)
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(10):
            assert post(client, case, f"Thought {number}").status_code == 302
        first = Comment.objects.first()
        refused = post(client, case, "One thought too many", parent=first)
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "wait a few minutes, then post this one again" in text
    assert "One thought too many</textarea>" in text and f'value="{first.pk}"' in text, "text and reply kept"
    assert Comment.objects.count() == 10 and len(mail.outbox) == 10
    assert f"Refused a comment on {case.number} by user {resident.pk}: too many comments" in caplog.text
    other = Client()
    other.force_login(make_user("other-reader", "resident"))
    assert post(revealed(other, case), case, "Mine").status_code == 302, "the count is per person"


def test_a_day_of_comments_has_a_limit_too(client, resident, monkeypatch):
    from discussions import limits

    monkeypatch.setattr(limits, "COMMENTS_PER_WINDOW", "100/10m")
    monkeypatch.setattr(limits, "COMMENTS_PER_DAY", "3/d")
    case = make_case()
    client.force_login(resident)
    revealed(client, case)
    for number in range(3):
        assert post(client, case, f"Thought {number}").status_code == 302
    refused = post(client, case, "Tomorrow")
    assert refused.status_code == 429 and "wait until tomorrow" in refused.content.decode()


def test_authors_edit_and_delete_their_own_comments_only(client, resident):
    case = make_case()
    other = Client()
    other.force_login(make_user("other-reader", "resident"))
    revealed(other, case)
    client.force_login(resident)
    revealed(client, case)
    post(client, case, "First thought")
    comment = Comment.objects.get()
    edit = reverse("discussions:comment-edit", args=[comment.pk])
    assert other.post(edit, {"body": "Vandalised"}).status_code == 404
    assert other.post(reverse("discussions:comment-delete", args=[comment.pk])).status_code == 404
    client.post(edit, {"body": "Second thought"})
    page = thread(client, case)
    assert "Second thought" in page and "(edited)" in page and "First thought" not in page
    assert comment.revisions.get().body == "First thought"
    post(other, case, "A reply", parent=comment)
    client.post(reverse("discussions:comment-delete", args=[comment.pk]))
    page = thread(other, case)
    assert "Second thought" not in page and "Comment deleted by its author." in page and "A reply" in page


def test_a_flagged_comment_hidden_by_an_editor_disappears_for_others_but_not_its_author(client, resident, editor):
    case = make_case()
    author = Client()
    author.force_login(make_user("commenter", "resident"))
    revealed(author, case)
    post(author, case, "Rude words")
    comment = Comment.objects.get()
    client.force_login(resident)
    revealed(client, case)
    client.post(reverse("discussions:comment-flag", args=[comment.pk]), {"reason": "rude"})
    client.post(reverse("discussions:comment-flag", args=[comment.pk]), {"reason": "rude"})
    assert comment.flags.count() == 1

    moderator = Client()
    moderator.force_login(editor)
    assert "Rude words" in moderator.get(reverse("discussions:moderation")).content.decode()
    assert client.post(reverse("discussions:comment-hide", args=[comment.pk])).status_code == 403
    moderator.post(reverse("discussions:comment-hide", args=[comment.pk]))
    assert "Rude words" not in thread(client, case)
    assert "Rude words" in thread(author, case) and "hidden by a moderator" in thread(author, case)
    assert not comment.flags.filter(resolved_at__isnull=True).exists()
    moderator.post(reverse("discussions:comment-restore", args=[comment.pk]))
    assert "Rude words" in thread(client, case)


def test_a_reply_cannot_hang_from_another_cases_comment(client, resident):
    first, second = make_case(), make_case()
    client.force_login(resident)
    revealed(client, first)
    revealed(client, second)
    post(client, first, "On the first case")
    response = post(client, second, "Reply", parent=Comment.objects.get())
    assert response.status_code == 400 and "The comment you replied to is gone" in response.content.decode()
    assert response.context["form"]["body"].value() == "Reply"
    assert 'id="id_parent"' not in response.content.decode(), "posted again, the text becomes a new comment"
    assert Comment.objects.count() == 1


def test_a_reply_refused_for_its_length_comes_back_as_a_reply(client, resident):
    case = make_case()
    client.force_login(resident)
    revealed(client, case)
    post(client, case, "First")
    first = Comment.objects.get()
    response = post(client, case, "y" * 6000, parent=first)
    page = response.content.decode()
    assert response.status_code == 400 and f'name="parent" value="{first.pk}" id="id_parent"' in page
    assert "Your reply to" in page


def test_notifications_are_listed_by_get_and_marked_read_by_post(client, faculty, resident):
    case = make_case(authors=[faculty])
    reader = Client()
    reader.force_login(resident)
    revealed(reader, case)
    post(reader, case, "Nice case")
    client.force_login(faculty)
    assert '<span class="count">1</span>' in client.get(reverse("cases:home")).content.decode()
    page = client.get(reverse("discussions:notifications")).content.decode()
    assert f"commented on your case {case.number}" in page and "Mark all as read" in page
    assert Notification.objects.unread().filter(user=faculty).exists(), "a GET (a link prefetcher) reads, never writes"
    response = client.post(reverse("discussions:notifications-read"))
    assert response.status_code == 302 and response["Location"] == reverse("discussions:notifications")
    assert not Notification.objects.unread().filter(user=faculty).exists()
    assert "Mark all as read" not in client.get(reverse("discussions:notifications")).content.decode()


def test_a_notification_of_this_minute_says_just_now_and_an_older_one_how_long_ago(client, faculty):
    case = make_case(authors=[faculty])
    Notification.objects.create(user=faculty, case=case, message="Fresh.")
    older = Notification.objects.create(user=faculty, case=case, message="Older.")
    Notification.objects.filter(pk=older.pk).update(created=older.created - timedelta(minutes=5))
    client.force_login(faculty)
    page = client.get(reverse("discussions:notifications")).content.decode()
    assert "just now" in page and "5\xa0minutes ago" in page
    assert "0\xa0minutes" not in page


def test_a_review_notification_links_the_author_to_the_case_in_the_authoring_screen(client, faculty):
    case = make_case(authors=[faculty])
    Notification.objects.create(user=faculty, case=case, message=f"Your case {case.number} was published.")
    client.force_login(faculty)
    page = client.get(reverse("discussions:notifications")).content.decode()
    assert f'href="{reverse("admin:cases_case_change", args=[case.pk])}"' in page


def test_a_notification_leads_to_the_comment_or_for_staff_to_the_authoring_screen_else_to_the_case(faculty, resident):
    case = make_case(authors=[faculty])
    comment = Comment.objects.create(case=case, author=resident, body="Nice case")
    on_comment = Notification.objects.create(user=faculty, case=case, comment=comment, message="A comment.")
    on_case = Notification.objects.create(user=faculty, case=case, message="Published.")
    thread_url = reverse("discussions:thread", args=[case.number]) + f"#comment-{comment.pk}"
    assert on_comment.link_for(faculty) == on_comment.link_for(resident) == thread_url
    assert on_case.link_for(faculty) == reverse("admin:cases_case_change", args=[case.pk])
    assert on_case.link_for(resident) == case.get_absolute_url()
