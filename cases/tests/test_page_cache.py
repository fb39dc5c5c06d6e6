"""What the page cache keeps goes stale when the content or the reader changes what a page may show."""

import re

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.services import user_set_role
from accounts.tests.test_limits import closed_port
from cases import services, signed_media
from cases.models import Case, Reveal
from cases.tests.factories import make_case, make_image, make_series, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitors(settings):
    settings.TEACHINGFILE_ANONYMOUS_BROWSING = True


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_edit_of_a_stage_reaches_the_cached_case_page(client, resident):
    client.force_login(resident)
    case = make_case()
    series = make_series(case=case, caption="Frontal view of the hip")
    make_image(series=series)
    assert "Frontal view of the hip" in page(client, case.get_absolute_url())
    series.after_reveal = True  # the author moves the stage behind the reveal
    series.save()
    assert "Frontal view of the hip" not in page(client, case.get_absolute_url())


def test_an_image_held_for_review_leaves_the_cached_case_page(client, resident):
    client.force_login(resident)
    case = make_case()
    image = make_image(series=make_series(case=case), caption="Lateral view")
    assert "Lateral view" in page(client, case.get_absolute_url())
    image.held_for_review = True
    image.save()
    assert "Lateral view" not in page(client, case.get_absolute_url())


def test_a_reveal_shows_the_answer_to_its_reader_only(client, resident, django_user_model):
    other = Client()
    other.force_login(django_user_model.objects.get(username="resident"))
    client.force_login(resident)
    case = make_case(diagnosis="Heterotopic ossification, Brooker III")
    make_image(series=make_series(case=case))
    for reader in (client, other):  # both pages built from one cached body
        assert "Brooker III" not in page(reader, case.get_absolute_url())
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "HO"})
    assert "Brooker III" in page(client, case.get_absolute_url())
    assert "Brooker III" not in page(other, case.get_absolute_url())


def test_an_access_change_reaches_the_visitors_cached_pages(client, visitors):
    case = make_case(access=Case.Access.PUBLIC, title="Painful hip after surgery")
    for url in (reverse("cases:home"), reverse("cases:case-list")):
        assert "Painful hip after surgery" in page(client, url)
    case.access = Case.Access.INSTITUTION
    case.save()
    for url in (reverse("cases:home"), reverse("cases:case-list")):
        assert "Painful hip after surgery" not in page(client, url)
    assert client.get(case.get_absolute_url()).status_code == 404


def test_a_publish_reaches_the_visitors_cached_pages(client, visitors, editor):
    case = make_case(access=Case.Access.PUBLIC, status=Case.Status.IN_REVIEW, title="Stiff elbow")
    assert "Stiff elbow" not in page(client, reverse("cases:case-list"))
    services.case_set_status(case=case, status=Case.Status.PUBLISHED, by=editor)
    assert "Stiff elbow" in page(client, reverse("cases:case-list"))


def test_a_visitor_who_revealed_gets_their_own_page_not_the_shared_one(client, visitors):
    case = make_case(access=Case.Access.PUBLIC, diagnosis="Secret osteoma")
    assert "badge-done" not in page(client, reverse("cases:case-list"))
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    assert Reveal.objects.filter(case=case, user__isnull=True).exists()
    assert "badge-done" in page(client, reverse("cases:case-list"))
    assert "badge-done" not in page(Client(), reverse("cases:case-list"))  # a new visitor: the shared page


def test_an_edit_of_a_topic_reaches_its_cached_page(client, resident):
    client.force_login(resident)
    topic = make_topic(summary="Bone where it should not be.")
    assert "Bone where it should not be." in page(client, topic.get_absolute_url())
    topic.summary = "Lamellar bone in soft tissue."
    topic.save()
    assert "Lamellar bone in soft tissue." in page(client, topic.get_absolute_url())


def test_a_role_change_reaches_the_cached_permissions(client, resident):
    client.force_login(resident)
    case = make_case(authors=[resident])
    assert "Edit this case" not in page(client, case.get_absolute_url())
    user_set_role(user=resident, role="faculty")
    assert "Edit this case" in page(client, case.get_absolute_url())
    user_set_role(user=resident, role="resident")
    assert "Edit this case" not in page(client, case.get_absolute_url())


def test_the_visitors_page_is_not_served_to_a_logged_in_reader(client, visitors, resident):
    make_case(access=Case.Access.INSTITUTION, title="Swollen knee")
    assert "Swollen knee" not in page(Client(), reverse("cases:case-list"))  # cached for visitors
    client.force_login(resident)
    assert "Swollen knee" in page(client, reverse("cases:case-list"))


def test_a_page_the_browser_has_answers_not_modified(client, visitors):
    make_case(access=Case.Access.PUBLIC)
    first = client.get(reverse("cases:home"))
    again = Client().get(reverse("cases:home"), headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304


def test_with_redis_down_pages_render_uncached_and_an_edit_in_a_transaction_is_undone(client, resident, caplog):
    """A read of the cache is a miss when Redis is down; an edit that cannot make the cached parts stale is
    refused with its transaction, so nothing rendered before it can be served when Redis comes back."""

    case = make_case(title="A hip that aches")
    make_image(series=make_series(case=case))
    client.force_login(resident)
    down = {
        "BACKEND": "teachingfile.redis_cache.ReusedClientRedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
    }
    with override_settings(CACHES={"default": down}):
        assert "A hip that aches" in page(client, case.get_absolute_url())
        assert "the cache is unreachable (ConnectionError)" in caplog.text
        with pytest.raises(RedisConnectionError), transaction.atomic():
            case.title = "A hip that still aches"
            case.save()
    case.refresh_from_db()
    assert case.title == "A hip that aches"


@override_settings(TEACHINGFILE_MEDIA_SIGNING_KEY="page-cache-signing-key-" + "k" * 16)
def test_a_cached_part_hands_out_signed_image_urls_with_a_window_left(client, resident, monkeypatch):
    """The signing window is in every key: a cached case body is never served after its URLs' window."""
    client.force_login(resident)
    case = make_case()
    make_image(series=make_series(case=case))
    now = 1_800_000_000
    monkeypatch.setattr(signed_media.time, "time", lambda: now)
    first = re.findall(r"/signed-media/images/\S+?\?e=(\d+)", page(client, case.get_absolute_url()))
    assert first and all(now + 120 <= int(expires) <= now + 240 for expires in first)
    now += 120
    later = re.findall(r"/signed-media/images/\S+?\?e=(\d+)", page(client, case.get_absolute_url()))
    assert later and all(int(expires) == int(first[0]) + 120 for expires in later)


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_the_public_case_page_is_kept_for_visitors_and_each_gets_a_csrf_token_of_their_own(
    visitors, django_assert_num_queries
):
    """The kept page holds no token: each visitor's copy carries one of their own cookie's, which their reveal
    needs (another visitor's is refused), and a visitor who revealed gets their own page with the answer."""
    case = make_case(access=Case.Access.PUBLIC, diagnosis="Secret osteoma")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = TOKEN.search(page(first, case.get_absolute_url())).group(1)
    with django_assert_num_queries(0):  # served whole from the cache
        second_page = page(second, case.get_absolute_url())
    second_token = TOKEN.search(second_page).group(1)
    assert "kept-page-token-slot" not in second_page and second_token != first_token
    assert second.cookies[settings.CSRF_COOKIE_NAME].value, "a visitor without the cookie is given one"
    reveal = reverse("cases:case-reveal", args=[case.number])
    assert second.post(reveal, {"committed_answer": "", "csrfmiddlewaretoken": first_token}).status_code == 403
    assert second.post(reveal, {"committed_answer": "", "csrfmiddlewaretoken": second_token}).status_code == 302
    assert "Secret osteoma" in page(second, case.get_absolute_url())
    assert "Secret osteoma" not in page(Client(), case.get_absolute_url())


def test_the_login_page_is_kept_for_visitors_and_each_copys_token_logs_in(resident):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = TOKEN.search(page(first, reverse("login"))).group(1)
    response = second.get(reverse("login"))
    assert not response.templates, "served whole from the cache"
    second_token = TOKEN.search(response.content.decode()).group(1)
    credentials = {"username": resident.username, "password": "pw-for-tests"}
    assert second.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": first_token}).status_code == 403
    answer = second.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": second_token})
    assert answer.status_code == 302 and second.session["_auth_user_id"] == str(resident.pk)
