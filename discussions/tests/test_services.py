"""Comment writes: threads, notifications, who may edit, delete and moderate."""

import pytest

from cases.tests.factories import make_case, make_user
from discussions import services
from discussions.models import Notification

pytestmark = pytest.mark.django_db


def test_replies_join_their_top_level_thread_and_authors_are_notified_but_not_the_commenter(faculty, resident):
    case = make_case(authors=[faculty, resident])
    root = services.comment_create(case=case, author=resident, body="  Root  ")
    reply = services.comment_create(case=case, author=faculty, body="Reply", parent=root)
    deeper = services.comment_create(case=case, author=resident, body="Deeper", parent=reply)
    assert root.body == "Root" and reply.thread == root and deeper.thread == root
    assert Notification.objects.filter(user=faculty).count() == 2
    assert Notification.objects.filter(user=resident).count() == 1


def test_only_authors_edit_or_delete_and_only_moderators_hide(resident, editor):
    comment = services.comment_create(case=make_case(), author=resident, body="Mine")
    stranger = make_user("stranger", "resident")
    for action in (
        lambda: services.comment_edit(comment=comment, by=stranger, body="x"),
        lambda: services.comment_delete(comment=comment, by=stranger),
        lambda: services.comment_set_hidden(comment=comment, by=resident, hidden=True),
    ):
        with pytest.raises(services.NotAllowed):
            action()
    services.comment_set_hidden(comment=comment, by=editor, hidden=True)
    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_by == editor
    services.comment_delete(comment=comment, by=resident)
    assert comment.revisions.get(reason="deleted").body == "Mine"
