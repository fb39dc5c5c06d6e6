from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases.daily import case_of_the_day, day_point
from cases.models import Case, Reveal
from cases.tests.factories import make_case, make_user

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 7)


def test_the_days_point_is_fixed_by_the_date_and_moves_from_day_to_day():
    points = [day_point(DAY + timedelta(days=n), low=1, high=1000) for n in range(30)]
    assert points[0] == day_point(DAY, low=1, high=1000)
    assert len(set(points)) > 25 and all(1 <= point <= 1000 for point in points)
    assert day_point(DAY, low=5, high=5) == 5


def only(cases):
    return Case.objects.filter(pk__in=[case.pk for case in cases]).published()


def test_everyone_gets_the_same_case_and_a_reader_who_saw_it_another_unknown(resident):
    cases = [make_case(published_at=timezone.now() - timedelta(days=3)) for _ in range(5)]
    other = make_user("resident-2-t", "resident")
    mine = case_of_the_day(cases=only(cases), reveals=Reveal.objects.filter(user=resident), day=DAY)
    theirs = case_of_the_day(cases=only(cases), reveals=Reveal.objects.filter(user=other), day=DAY)
    assert mine.case == theirs.case and not mine.seen
    Reveal.objects.create(case=mine.case, user=resident)
    again = case_of_the_day(cases=only(cases), reveals=Reveal.objects.filter(user=resident), day=DAY)
    assert again.case == mine.case and again.seen and again.another not in (None, mine.case)
    for case in cases:
        Reveal.objects.get_or_create(case=case, user=resident)
    done = case_of_the_day(cases=only(cases), reveals=Reveal.objects.filter(user=resident), day=DAY)
    assert done.seen and done.another is None


def test_a_case_published_today_does_not_change_todays_choice(resident):
    cases = [make_case(published_at=timezone.now() - timedelta(days=3)) for _ in range(4)]
    reveals = Reveal.objects.filter(user=resident)
    today = timezone.localdate()
    before = case_of_the_day(cases=only(cases), reveals=reveals, day=today).case
    cases += [make_case() for _ in range(6)]
    assert case_of_the_day(cases=only(cases), reveals=reveals, day=today).case == before


def test_no_case_of_the_day_without_cases(resident):
    assert case_of_the_day(cases=Case.objects.none(), reveals=Reveal.objects.none(), day=DAY).case is None


def test_the_home_page_shows_the_case_of_the_day_without_its_diagnosis(client, resident):
    client.force_login(resident)
    body = client.get("/").content.decode()
    assert "Case of the day" in body
    for case in Case.objects.filter(number__in=["tf101", "tf102", "tf103"]):
        client.post(f"/cases/{case.number}/reveal/", {"committed_answer": "x"})
    body = client.get("/").content.decode()
    assert "You have seen today" in body
    section = body.split('class="case-of-the-day"')[1].split("</section>")[0]
    assert not any(case.diagnosis in section for case in Case.objects.all())
