"""A finding's link to a view: checked against its case, stored by its authors, shown only with the answer."""

import pytest
from django.test import Client
from django.urls import reverse

from cases import page_cache
from cases.finding_links import FindingViewForm
from cases.models import Annotation, Case, CaseFinding

from .factories import make_case, make_image, make_series


@pytest.fixture
def linked(db, faculty):
    """A draft case of ``faculty``: a radiograph of two images, the second with an arrow, and one finding."""
    case = make_case(status=Case.Status.DRAFT, authors=[faculty], findings=["New bone beside the hip."])
    series = make_series(case=case)
    make_image(series=series, order=1)
    second = make_image(series=series, order=2)
    arrow = Annotation.objects.create(image=second, kind="arrow", x1=0.1, y1=0.1, x2=0.5, y2=0.5)
    return case, series, arrow, case.findings.get()


def view_form(finding, **data) -> FindingViewForm:
    return FindingViewForm(data, finding=finding)


def test_a_view_of_the_case_with_its_slice_window_and_arrow_is_accepted(linked):
    _, series, arrow, finding = linked
    form = view_form(finding, series=series.pk, slice=2, wl=40, ww=400, mark=arrow.pk)
    assert form.is_valid(), form.errors
    view = form.cleaned_data["view"]
    assert (view.series, view.slice, view.center, view.width, view.annotation) == (series, 2, 40, 400, arrow)


def test_a_stage_of_another_case_is_refused(linked, faculty):
    _, _, _, finding = linked
    other = make_series(case=make_case(authors=[faculty]))
    make_image(series=other)
    form = view_form(finding, series=other.pk, slice=1)
    assert not form.is_valid()
    assert form.first_error() == "That stage is not one of this case's stages."


@pytest.mark.parametrize("number", [0, 3])
def test_a_slice_outside_the_stage_is_refused(linked, number):
    _, series, _, finding = linked
    assert not view_form(finding, series=series.pk, slice=number).is_valid()


def test_an_arrow_on_another_image_of_the_stage_is_refused(linked):
    _, series, arrow, finding = linked
    form = view_form(finding, series=series.pk, slice=1, mark=arrow.pk)
    assert not form.is_valid()
    assert form.first_error() == "That arrow is not on this image."


@pytest.mark.parametrize("window", [{"wl": 40}, {"wl": 40, "ww": 0}, {"wl": "nan", "ww": 400}])
def test_half_a_window_or_an_empty_one_is_refused(linked, window):
    _, series, _, finding = linked
    assert not view_form(finding, series=series.pk, slice=1, **window).is_valid()


def test_the_link_is_the_viewers_deep_link_with_the_arrow_as_mark():
    finding = CaseFinding(view_series_id=7, view_slice=3, view_center=40.4, view_width=399.6, view_annotation_id=9)
    assert finding.view_query == "?series=7&slice=3&wl=40&ww=400&mark=9"
    assert CaseFinding(view_series_id=7, view_slice=3).view_query == "?series=7&slice=3"
    assert CaseFinding().view_query == ""


def post_view(client: Client, finding: CaseFinding, **data):
    return client.post(reverse("cases:finding-view-link", args=[finding.case.number, finding.pk]), data)


def test_an_author_links_and_unlinks_a_finding_and_cached_parts_go_stale(linked, faculty):
    case, series, arrow, finding = linked
    client = Client()
    client.force_login(faculty)
    version = page_cache.content_version()
    response = post_view(client, finding, series=series.pk, slice=2, wl=40, ww=400, mark=arrow.pk)
    assert response.status_code == 200
    expected = f"{case.get_absolute_url()}?series={series.pk}&slice=2&wl=40&ww=400&mark={arrow.pk}"
    assert response.json() == {"url": expected}
    finding.refresh_from_db()
    assert (finding.view_series, finding.view_slice, finding.view_annotation) == (series, 2, arrow)
    assert page_cache.content_version() != version

    assert post_view(client, finding, clear="1").json() == {"url": ""}
    finding.refresh_from_db()
    assert finding.view_query == ""


def test_a_refused_view_leaves_the_link_as_it_was(linked, faculty):
    _, series, arrow, finding = linked
    client = Client()
    client.force_login(faculty)
    post_view(client, finding, series=series.pk, slice=2, mark=arrow.pk)
    response = post_view(client, finding, series=series.pk, slice=9)
    assert response.status_code == 400
    assert "no image 9" in response.content.decode()
    finding.refresh_from_db()
    assert finding.view_slice == 2


def reveal(client: Client, case: Case):
    return client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "a guess"}, follow=True)


def test_readers_see_the_link_with_the_answer_only(linked, resident):
    case, series, arrow, finding = linked
    case.status = Case.Status.PUBLISHED
    case.save()
    finding.view_series, finding.view_slice, finding.view_annotation = series, 2, arrow
    finding.save()
    client = Client()
    client.force_login(resident)
    link = (
        f'<a class="finding-link" href="{case.get_absolute_url()}?series={series.pk}&amp;slice=2&amp;mark={arrow.pk}"'
    )
    before = client.get(case.get_absolute_url()).content.decode()
    assert "finding-link" not in before and f"mark={arrow.pk}" not in before

    page = reveal(client, case).content.decode()
    assert link in page
    assert "finding-set-link" not in page and "Link current view" not in page  # residents do not set links


def test_an_author_who_may_edit_directly_gets_the_link_buttons(linked, faculty):
    case, _, _, finding = linked
    client = Client()
    client.force_login(faculty)
    page = reveal(client, case).content.decode()
    assert reverse("cases:finding-view-link", args=[case.number, finding.pk]) in page
    assert "Link current view" in page


def test_the_authoring_screen_shows_each_findings_link_and_where_to_set_it(linked, faculty):
    case, series, _, finding = linked
    CaseFinding.objects.create(case=case, order=2, text="Not linked yet.")
    finding.view_series, finding.view_slice = series, 2
    finding.save()
    client = Client()
    client.force_login(faculty)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert f'<a href="{case.get_absolute_url()}?series={series.pk}&amp;slice=2">Show on the image</a>' in page
    assert "None (set it on the case page: Link a view)" in page
