"""Held images and unconfirmed stages: listed on the authoring page, refused at submission, cleared on one page."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.models import Case, Image
from cases.tests.factories import make_case, make_image, make_series


@pytest.fixture
def waiting(faculty):
    """A draft of ``faculty``: stage 1 a confirmed radiograph with two held images and one clear one, stage 2 an
    imported CT whose label waits, stage 3 all clear."""
    case = make_case(status=Case.Status.DRAFT, authors=[faculty])
    radiograph = make_series(case=case, modality="XR")
    held = [make_image(series=radiograph, order=order) for order in (1, 2)]
    make_image(series=radiograph, order=3)
    Image.objects.filter(pk__in=[image.pk for image in held]).update(held_for_review=True)
    ct = make_series(case=case, modality="CT", plane="axial", label_confirmed=False)
    Image.objects.filter(pk=make_image(series=ct).pk).update(is_key=True)
    make_image(series=make_series(case=case, modality="MR"))
    return case, held, ct


def check_url(case: Case) -> str:
    return reverse("admin:cases_case_image_check", args=[case.pk])


def test_submission_is_refused_with_a_message_naming_each_stage(waiting, faculty):
    case, _, _ = waiting
    with pytest.raises(services.NotReadyToPublish) as refused:
        services.case_set_status(case=case, status=Case.Status.IN_REVIEW, by=faculty)
    message = str(refused.value)
    assert "Stage 1 · Radiograph: 2 images held for burned-in text" in message
    assert "Stage 2 · CT · Axial: label and caption need confirming" in message
    assert "Stage 3" not in message
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT and case.submitted_at is None


def test_the_change_form_refuses_submission_naming_the_stages(client, waiting, faculty):
    from cases.tests.test_admin import case_form_data

    case, _, _ = waiting
    client.force_login(faculty)
    data = case_form_data(number=case.number, status="review", authors=[faculty.pk])
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 200
    assert "Stage 1 · Radiograph: 2 images held for burned-in text" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_the_submit_action_refused_for_every_case_reports_no_success(client, waiting, faculty):
    case, _, _ = waiting
    client.force_login(faculty)
    data = {"action": "submit_for_review", "_selected_action": [case.pk]}
    page = client.post(reverse("admin:cases_case_changelist"), data, follow=True).content.decode()
    assert f"Case {case.number} unchanged: Not submitted: Stage 1 · Radiograph" in page
    assert "now in review" not in page


def test_the_editors_publish_names_the_stages(client, waiting, editor):
    case, _, _ = waiting
    Case.objects.filter(pk=case.pk).update(status=Case.Status.IN_REVIEW)
    client.force_login(editor)
    client.post(reverse("admin:cases_case_review", args=[case.pk]), {"decision": "publish"})
    body = client.get(reverse("admin:cases_case_review_queue")).content.decode()
    assert "Not published: Stage 1 · Radiograph: 2 images held for burned-in text" in body
    assert "Stage 2 · CT · Axial: label and caption need confirming" in body
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW


def test_the_authoring_page_lists_what_waits_per_stage_with_links(client, waiting, faculty):
    case, _, ct = waiting
    client.force_login(faculty)
    body = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    panel = body[body.index('id="image-checks"') :]
    panel = panel[: panel.index("</div>")]
    assert "2 images held for burned-in text" in panel
    assert f"{check_url(case)}#stage-{case.series.get(order=1).pk}" in panel
    assert reverse("admin:cases_series_change", args=[ct.pk]) in panel
    assert "label and caption need confirming" in panel
    assert "Stage 3" not in panel


def test_the_authoring_page_shows_no_panel_when_all_is_clear(client, faculty):
    case = make_case(status=Case.Status.DRAFT, authors=[faculty])
    make_image(series=make_series(case=case))
    client.force_login(faculty)
    assert 'id="image-checks"' not in client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()


def test_the_check_page_shows_every_held_image_and_waiting_stage(client, waiting, faculty):
    case, held, ct = waiting
    client.force_login(faculty)
    body = client.get(check_url(case)).content.decode()
    for image in held:
        assert f'name="check-{image.pk}" value="clear"' in body
        assert f'name="mask-{image.pk}"' in body
    assert f'name="labels" value="{ct.pk}"' in body
    assert body.count('value="clear"') == 2, "images not held are not offered"


def test_several_images_are_confirmed_and_a_label_accepted_at_once(client, waiting, faculty):
    case, held, ct = waiting
    client.force_login(faculty)
    response = client.post(check_url(case), {**{f"check-{image.pk}": "clear" for image in held}, "labels": [ct.pk]})
    assert response.status_code == 302
    assert not Image.objects.filter(series__case=case, held_for_review=True).exists()
    ct.refresh_from_db()
    assert ct.label_confirmed
    assert 'id="nothing-to-check"' in client.get(check_url(case)).content.decode()
    services.case_set_status(case=case, status=Case.Status.IN_REVIEW, by=faculty)
    assert case.status == Case.Status.IN_REVIEW


def test_a_mask_drawn_on_the_check_page_blacks_out_the_text(client, waiting, faculty):
    case, held, _ = waiting
    client.force_login(faculty)
    client.post(check_url(case), {f"check-{held[0].pk}": "mask", f"mask-{held[0].pk}": "0,0,10,10"})
    masked = Image.objects.get(pk=held[0].pk)
    assert not masked.held_for_review and masked.masks == [[0, 0, 10, 10]]
    assert Image.objects.get(pk=held[1].pk).held_for_review


def test_a_bad_mask_is_refused_and_nothing_changes(client, waiting, faculty):
    case, held, _ = waiting
    client.force_login(faculty)
    response = client.post(
        check_url(case), {f"check-{held[0].pk}": "mask", f"mask-{held[0].pk}": "a,b", f"check-{held[1].pk}": "clear"}
    )
    assert response.status_code == 200
    assert "four whole numbers" in response.content.decode()
    assert Image.objects.filter(pk__in=[image.pk for image in held], held_for_review=True).count() == 2


def test_images_of_another_case_cannot_be_cleared_through_this_one(client, waiting, faculty):
    case, _, _ = waiting
    other = make_case(status=Case.Status.DRAFT, authors=[faculty])
    foreign = make_image(series=make_series(case=other))
    Image.objects.filter(pk=foreign.pk).update(held_for_review=True)
    client.force_login(faculty)
    assert client.post(check_url(case), {f"check-{foreign.pk}": "clear"}).status_code == 200
    assert Image.objects.get(pk=foreign.pk).held_for_review


def test_another_faculty_member_can_neither_see_nor_clear(client, waiting, other_faculty):
    case, held, _ = waiting
    client.force_login(other_faculty)
    assert client.get(check_url(case)).status_code == 403
    assert client.post(check_url(case), {f"check-{held[0].pk}": "clear"}).status_code == 403
    assert Image.objects.get(pk=held[0].pk).held_for_review


def test_the_check_page_costs_the_same_queries_for_more_images(client, waiting, faculty):
    case, held, _ = waiting
    client.force_login(faculty)

    def queries() -> int:
        cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(check_url(case)).status_code == 200
        return len(captured)

    before = queries()
    more = make_series(case=case, label_confirmed=False)
    for order in range(1, 5):
        Image.objects.filter(pk=make_image(series=more, order=order).pk).update(held_for_review=True)
    assert queries() == before


def test_a_published_cases_images_are_not_cleared_by_its_faculty_author(client, waiting, faculty):
    """Readers see what the check page clears: on a published case only an editor may (the revision rule)."""
    case, held, ct = waiting
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)
    client.force_login(faculty)
    response = client.post(
        check_url(case),
        {
            f"check-{held[0].pk}": "clear",
            f"check-{held[1].pk}": "mask",
            f"mask-{held[1].pk}": "0,0,10,10",
            "labels": [ct.pk],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_case_change", args=[case.pk])
    assert Image.objects.filter(pk__in=[image.pk for image in held], held_for_review=True, masks=[]).count() == 2
    ct.refresh_from_db()
    assert not ct.label_confirmed
    assert client.get(check_url(case)).status_code == 302


def test_an_editor_clears_a_published_cases_images(client, waiting, editor):
    case, held, _ = waiting
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)
    client.force_login(editor)
    client.post(check_url(case), {f"check-{held[0].pk}": "clear"})
    assert not Image.objects.get(pk=held[0].pk).held_for_review


def test_each_mask_is_drawn_in_a_transaction_of_its_own(client, waiting, faculty, monkeypatch):
    """Masking decodes pixels: the write lock is never held across several images (SQLite has only one)."""
    from django.db import connection

    from imaging import mask

    case, held, _ = waiting
    depths = []
    mask_array = mask.mask_array

    def recording(*args, **kwargs):
        depths.append(len(connection.atomic_blocks))
        return mask_array(*args, **kwargs)

    monkeypatch.setattr(mask, "mask_array", recording)
    client.force_login(faculty)
    outside = len(connection.atomic_blocks)
    data = {f"check-{image.pk}": "mask" for image in held}
    client.post(check_url(case), {**data, **{f"mask-{image.pk}": "0,0,10,10" for image in held}})
    assert depths == [outside + 1, outside + 1], "each mask in its own transaction, none inside another"
    assert not Image.objects.filter(pk__in=[image.pk for image in held], held_for_review=True).exists()


def test_the_boxes_found_are_outlined_and_offered_as_the_mask(client, waiting, faculty):
    case, held, _ = waiting
    Image.objects.filter(pk=held[0].pk).update(text_regions=[[2, 3, 40, 12], [2, 20, 30, 12]])
    client.force_login(faculty)
    body = client.get(check_url(case)).content.decode()
    assert 'value="2,3,40,12; 2,20,30,12"' in body, "the mask field starts with the boxes"
    assert '<rect x="2" y="3" width="40" height="12"></rect>' in body
    assert "Text found: 2 boxes ready to mask." in body
    assert "<kbd>Delete</kbd> delete" in body, "the keys are shown on the page"


def test_confirming_the_pre_drawn_mask_blacks_out_those_boxes(client, waiting, faculty):
    case, held, _ = waiting
    Image.objects.filter(pk=held[0].pk).update(text_regions=[[0, 0, 10, 10]])
    client.force_login(faculty)
    client.post(check_url(case), {f"check-{held[0].pk}": "mask", f"mask-{held[0].pk}": "0,0,10,10"})
    masked = Image.objects.get(pk=held[0].pk)
    assert not masked.held_for_review and masked.masks == [[0, 0, 10, 10]]


def test_a_mask_check_without_rectangles_is_refused(client, waiting, faculty):
    case, held, _ = waiting
    client.force_login(faculty)
    response = client.post(check_url(case), {f"check-{held[0].pk}": "mask", f"mask-{held[0].pk}": ""})
    assert response.status_code == 200
    assert "Draw a mask over the text" in response.content.decode()
    assert Image.objects.get(pk=held[0].pk).held_for_review


def test_a_held_image_is_deleted_with_its_files(client, waiting, faculty, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    case, held, _ = waiting
    name = held[0].file.name
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(check_url(case), {f"check-{held[0].pk}": "delete", f"check-{held[1].pk}": "clear"})
    assert response.status_code == 302
    assert not Image.objects.filter(pk=held[0].pk).exists()
    assert not default_storage.exists(name)
    assert not Image.objects.get(pk=held[1].pk).held_for_review


def test_an_image_not_held_cannot_be_deleted_through_the_check_page(client, waiting, faculty):
    case, _, _ = waiting
    clear = case.series.get(order=1).images.get(order=3)
    client.force_login(faculty)
    assert client.post(check_url(case), {f"check-{clear.pk}": "delete"}).status_code == 200
    assert Image.objects.filter(pk=clear.pk).exists()


def test_a_published_cases_images_are_not_deleted_by_its_faculty_author(client, waiting, faculty):
    case, held, _ = waiting
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)
    client.force_login(faculty)
    assert client.post(check_url(case), {f"check-{held[0].pk}": "delete"}).status_code == 302
    assert Image.objects.filter(pk=held[0].pk).exists()


def test_the_check_page_refuses_a_get_that_would_write(client, waiting, faculty):
    """Only a POST writes: a GET with the same fields changes nothing."""
    case, held, _ = waiting
    client.force_login(faculty)
    client.get(check_url(case), {f"check-{held[0].pk}": "delete"})
    assert Image.objects.filter(pk=held[0].pk, held_for_review=True).exists()
