"""A logged-in reader's page is kept whole and served again only while nothing it shows has changed."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.services import profile_update
from cases import page_cache, reader_pages, services
from cases.models import Case, Reveal, RevealDifferential
from cases.tests.factories import make_case, make_image, make_series, make_user
from collections_app.tests.factories import make_collection
from discussions import services as discussion_services
from quizzes import services as quiz_services
from quizzes.models import Quiz
from quizzes.tests.factories import make_quiz, make_sba
from teachingfile import cache_reads

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


def fetch(client: Client, url: str) -> tuple[str, int]:
    """Return the page and the number of queries its request made."""
    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_a_readers_page_is_served_again_from_the_cache(client, resident):
    client.force_login(resident)
    case = make_case(title="Painful hip after a fall")
    make_image(series=make_series(case=case))
    for url in (reverse("cases:home"), reverse("cases:case-list"), case.get_absolute_url()):
        first, rendered = fetch(client, url)
        again, served = fetch(client, url)
        assert "Painful hip after a fall" in again
        assert TOKEN.sub("", again) == TOKEN.sub("", first)
        assert served == 2 < rendered  # the session and the user: nothing of the page itself


def test_each_copy_gets_the_readers_own_csrf_token_and_it_is_accepted(resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    case = make_case(diagnosis="Heterotopic ossification")
    make_image(series=make_series(case=case))
    fetch(client, case.get_absolute_url())
    page, served = fetch(client, case.get_absolute_url())
    assert served == 2
    token = TOKEN.search(page).group(1)
    assert token != "kept-page-token-slot"
    url = reverse("cases:case-reveal", args=[case.number])
    response = client.post(url, {"committed_answer": "HO", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Reveal.objects.filter(user=resident, case=case).exists()


def test_another_reader_never_gets_a_readers_kept_page(client, resident, faculty):
    case = make_case(diagnosis="Myositis ossificans, mature")
    make_image(series=make_series(case=case))
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "HO"})
    assert "Myositis ossificans, mature" in fetch(client, case.get_absolute_url())[0]
    other = Client()
    other.force_login(faculty)
    assert "Myositis ossificans, mature" not in fetch(other, case.get_absolute_url())[0]


def test_a_reveal_made_outside_the_readers_requests_reaches_their_kept_page(client, resident):
    client.force_login(resident)
    case = make_case(diagnosis="Brooker class III")
    make_image(series=make_series(case=case))
    assert "Brooker class III" not in fetch(client, case.get_absolute_url())[0]
    services.case_reveal(case=case, user=resident, session_key="", committed_answer="HO", differential=[])
    assert "Brooker class III" in fetch(client, case.get_absolute_url())[0]


def test_a_notification_from_anothers_comment_reaches_the_readers_header(client, faculty, resident):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    before, _ = fetch(client, reverse("cases:home"))
    assert 'class="count"' not in before
    discussion_services.comment_create(case=case, author=resident, body="Is the bridging complete?")
    assert '<span class="count">1</span>' in fetch(client, reverse("cases:home"))[0]
    # Marked read by an update() in the reader's own request, which sends no signal.
    client.post(reverse("discussions:notifications-read"))
    assert 'class="count"' not in fetch(client, reverse("cases:home"))[0]


def test_a_notification_sent_with_no_other_write_reaches_the_readers_header(client, faculty):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    fetch(client, reverse("cases:home"))
    url = case.get_absolute_url()
    discussion_services.notifications_send(users=[faculty], case=case, message="Sent back", subject="", url=url)
    assert '<span class="count">1</span>' in fetch(client, reverse("cases:home"))[0]


def test_a_comment_by_another_reader_reaches_the_readers_kept_case_page(client, resident, faculty):
    case = make_case()
    make_image(series=make_series(case=case))
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "HO"})
    assert "(1 comment)" not in fetch(client, case.get_absolute_url())[0]
    discussion_services.comment_create(case=case, author=faculty, body="Note the cortex and the marrow.")
    assert "(1 comment)" in fetch(client, case.get_absolute_url())[0]


def test_a_profile_saved_by_the_reader_reaches_their_header(client, resident):
    client.force_login(resident)
    fetch(client, reverse("cases:home"))
    profile_update(user=resident, display_name="Dr Ada Reader", training_level="")
    assert "Dr Ada Reader" in fetch(client, reverse("cases:home"))[0]


def test_a_page_with_a_message_is_shown_with_it_and_not_kept(client, resident):
    client.force_login(resident)
    fetch(client, reverse("cases:home"))
    client.post(reverse("quizzes:review-start"))  # nothing is due: a message, then a redirect
    with_message, _ = fetch(client, reverse("cases:home"))
    assert "Nothing is due for review today." in with_message
    assert "Nothing is due for review today." not in fetch(client, reverse("cases:home"))[0]


def test_a_case_held_for_review_is_an_unknown_again_on_the_kept_page(client, resident):
    client.force_login(resident)
    case = make_case(diagnosis="Heterotopic ossification, Brooker II")
    make_image(series=make_series(case=case))
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "HO"})
    assert "Brooker II" in fetch(client, case.get_absolute_url())[0]
    session = client.session
    session["cases_held_for_review"] = [case.pk]  # as "review it again as an unknown" does
    session.save()
    assert "Brooker II" not in fetch(client, case.get_absolute_url())[0]


def test_a_password_changed_elsewhere_ends_the_session_before_any_kept_page(client, resident):
    client.force_login(resident)
    fetch(client, reverse("cases:home"))
    resident.set_password("a-new-password-elsewhere")
    resident.save()
    response = client.get(reverse("cases:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_reader_made_inactive_is_not_served_their_kept_page(client, resident):
    client.force_login(resident)
    fetch(client, reverse("cases:home"))
    resident.is_active = False
    resident.save()
    response = client.get(reverse("cases:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_timed_quiz_page_is_never_served_again(client, resident):
    quiz = make_quiz(questions=[make_sba()], time_limit_minutes=5, mode=Quiz.Mode.EXAM)
    attempt = quiz_services.attempt_start(quiz=quiz, user=resident)
    client.force_login(resident)
    response = client.get(attempt.get_absolute_url())
    assert "no-store" in response["Cache-Control"]
    _, queries = fetch(client, attempt.get_absolute_url())
    assert queries > 2


def test_the_day_is_in_the_key(client, resident, monkeypatch):
    client.force_login(resident)
    make_case(published_at=timezone.now() - timedelta(days=3))
    fetch(client, reverse("cases:home"))
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(reader_pages.timezone, "localdate", lambda: tomorrow)
    assert fetch(client, reverse("cases:home"))[1] > 2


def test_a_write_made_for_no_particular_reader_makes_every_readers_pages_stale(client, resident, faculty):
    client.force_login(resident)
    fetch(client, reverse("cases:home"))
    before = cache.get(reader_pages.ACTIVITY_KEY)
    make_quiz(questions=[make_sba()])
    assert cache.get(reader_pages.ACTIVITY_KEY) != before
    assert fetch(client, reverse("cases:home"))[1] > 2


def test_an_access_change_reaches_the_readers_kept_pages(client, resident):
    client.force_login(resident)
    case = make_case(title="Stiff knee after a burn")
    for url in (reverse("cases:home"), reverse("cases:case-list")):
        assert "Stiff knee after a burn" in fetch(client, url)[0]
    case.access = Case.Access.PRIVATE
    case.save()
    for url in (reverse("cases:home"), reverse("cases:case-list")):
        assert "Stiff knee after a burn" not in fetch(client, url)[0]


def test_a_differential_entry_changed_alone_reaches_its_readers_kept_case_page(client, resident):
    case = make_case()
    make_image(series=make_series(case=case))
    client.force_login(resident)
    reveal_url = reverse("cases:case-reveal", args=[case.number])
    client.post(reveal_url, {"committed_answer": "HO", "differential_1": "Myositis ossificans"})
    assert "Myositis ossificans" in fetch(client, case.get_absolute_url())[0]
    RevealDifferential.objects.get(reveal__user=resident).delete()  # read alone: its reveal is not loaded with it
    assert "Myositis ossificans" not in fetch(client, case.get_absolute_url())[0]


def test_a_publish_reaches_the_readers_kept_pages(client, resident, editor):
    case = make_case(status=Case.Status.IN_REVIEW, title="Stiff elbow after a fracture")
    client.force_login(resident)
    for url in (reverse("cases:home"), reverse("cases:case-list")):
        assert "Stiff elbow after a fracture" not in fetch(client, url)[0]
    services.case_set_status(case=case, status=Case.Status.PUBLISHED, by=editor)
    for url in (reverse("cases:home"), reverse("cases:case-list")):
        assert "Stiff elbow after a fracture" in fetch(client, url)[0]


def delete_queries(readers: int) -> int:
    case = make_case()
    for number in range(readers):
        user = make_user(f"reader-{readers}-{number}", "resident")
        services.case_reveal(case=case, user=user, session_key="", committed_answer="HO", differential=["A", "B"])
    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        case.delete()
    return len(queries)


def test_deleting_a_case_costs_the_same_queries_with_2_or_8_readers_who_revealed_it():
    """Its reveals and their differentials go by the case's deletion, which makes everyone's pages stale: none
    looks up its reader."""
    assert delete_queries(8) == delete_queries(2)


class Unreachable:
    """The cache as a Redis that drops packets: every call fails (after its timeout, in production)."""

    def __init__(self):
        self.attempts = 0

    def fail(self, *args, **kwargs):
        self.attempts += 1
        raise RedisConnectionError("timed out")

    get = get_many = set = set_many = get_or_set = fail


def test_with_redis_unreachable_a_reveal_waits_on_it_once_and_goes_on(client, resident, monkeypatch):
    case = make_case()
    make_image(series=make_series(case=case))
    client.force_login(resident)
    down = Unreachable()
    for module in (cache_reads, page_cache):
        monkeypatch.setattr(module, "cache", down)
    response = client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "HO"})
    assert response.status_code == 302 and Reveal.objects.filter(user=resident, case=case).exists()
    assert down.attempts == 1
    down.attempts = 0
    assert "HO" in fetch(client, case.get_absolute_url())[0]  # rendered from the database
    assert down.attempts == 1


def test_a_kept_login_page_says_never_cache_as_the_rendered_one_does():
    rendered = Client().get(reverse("login"))
    served = Client().get(reverse("login"))
    assert not served.templates, "served whole from the cache"
    assert "no-store" in rendered["Cache-Control"] and "no-store" in served.get("Cache-Control", "")


def test_a_reader_taken_off_a_collections_groups_no_longer_sees_its_bar_on_a_kept_case_page(client, resident, faculty):
    case = make_case()
    make_image(series=make_series(case=case))
    residents = Group.objects.get(name="resident")
    collection = make_collection(owner=faculty, cases=[case], groups=[residents], title="Board review, cohort A")
    client.force_login(resident)
    url = f"{case.get_absolute_url()}?collection={collection.slug}"
    assert "Board review, cohort A" in fetch(client, url)[0]
    collection.groups.set([Group.objects.get(name="faculty")])  # the links alone change: no save
    assert "Board review, cohort A" not in fetch(client, url)[0]


def test_a_version_is_replaced_once_at_commit_however_many_rows_of_the_transaction_tell(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        cases = [make_case(), make_case(), make_case()]
        reader = make_user("reader-of-three", "resident")
        for case in cases:
            Reveal.objects.create(case=case, user=reader)
    content = [callback for callback in callbacks if getattr(callback, "replaces", None) == page_cache.VERSION_KEY]
    assert len(content) == 1, "three cases saved: the content version replaced at commit once"
    key = reader_pages.READER_KEY.format(reader.pk)
    at_commit = [callback for callback in callbacks if getattr(callback, "replaces", None) == key]
    assert len(at_commit) == 1
    before = cache.get(key)
    at_commit[0]()
    assert cache.get(key) != before


def test_an_upgrades_migrate_makes_every_kept_page_stale(client, resident):
    client.force_login(resident)
    fetch(client, reverse("cases:home"))
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert fetch(client, reverse("cases:home"))[1] > 2
