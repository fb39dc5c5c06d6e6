"""The authoring screen: own cases only, status rules, validated uploads."""

import io

import PIL.Image
import pytest
from django.contrib import admin
from django.contrib.admin.checks import check_admin_app
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import Case, Image, Series
from cases.tests.factories import make_case, make_image, make_series, png_bytes


def case_form_data(**overrides) -> dict:
    data = {
        "number": "new101",
        "title": "A neutral title",
        "status": "draft",
        "access": "institution",
        "credit": "",
        "difficulty": 2,
        "quality": 3,
        "patient_age_years": 30,
        "patient_sex": "F",
        "region": "pelvis",
        "brief_history": "Pain.",
        "full_history": "",
        "diagnosis": "Secret",
        "topic": "",
        "discussion": "",
        "management": "",
        "rehabilitation": "",
        "teaching_points": "",
        "acr_anatomy": "",
        "acr_pathology": "",
        "keywords": "",
    }
    for prefix in ("series", "findings", "differential", "references"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    return data | overrides


def series_form_data(case: Case, *uploads, **overrides) -> dict:
    data = {"case": case.pk, "order": 1, "modality": "XR", "phase": "", "plane": "AP", "sequence": ""}
    data |= {"technique": "", "caption": "", "images-TOTAL_FORMS": len(uploads), "images-INITIAL_FORMS": 0}
    data |= {"gate-TOTAL_FORMS": 0, "gate-INITIAL_FORMS": 0}
    for index, upload in enumerate(uploads):
        data |= {f"images-{index}-order": index, f"images-{index}-upload": upload}
        data |= {f"images-{index}-caption": "", f"images-{index}-alt_text": ""}
    return data | overrides


def existing_image_form_data(image: Image) -> dict:
    """The stage editor's form with one row for an image already stored."""
    data = series_form_data(image.series.case) | {"images-TOTAL_FORMS": 1, "images-INITIAL_FORMS": 1}
    return data | {"images-0-id": image.pk, "images-0-series": image.series_id, "images-0-order": 1}


def test_faculty_creates_a_case_and_becomes_its_author(client, faculty):
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_case_add"), case_form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(number="new101")
    assert list(case.authors.all()) == [faculty]
    assert case.status == "draft"


def test_faculty_cannot_publish(client, faculty):
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_case_add"), case_form_data(status="published"))
    assert response.status_code == 200
    assert "not one of the available choices" in response.content.decode()
    assert not Case.objects.filter(number="new101").exists()


def test_editor_publishes_any_case(client, editor, faculty):
    case = make_case(authors=[faculty], status="review")
    client.force_login(editor)
    data = case_form_data(number=case.number, status="published")
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "published" and case.published_at is not None


def test_faculty_cannot_open_or_change_another_authors_case(client, other_faculty, faculty):
    case = make_case(authors=[faculty], status="draft", title="Original")
    client.force_login(other_faculty)
    url = reverse("admin:cases_case_change", args=[case.pk])
    assert client.get(url).status_code == 302
    client.post(url, case_form_data(number=case.number, title="Hijacked"))
    case.refresh_from_db()
    assert case.title == "Original"
    assert case.number not in client.get(reverse("admin:cases_case_changelist")).content.decode()


def test_over_long_title_is_refused_with_a_message(client, faculty):
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_case_add"), case_form_data(title="t" * 201))
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert not Case.objects.exists() or not Case.objects.filter(number="new101").exists()


def test_image_upload_is_stored_under_a_random_name_with_a_thumbnail(client, faculty):
    case = make_case(authors=[faculty], status=Case.Status.DRAFT)
    client.force_login(faculty)
    upload = SimpleUploadedFile("DOE^JOHN_MRN12345.png", png_bytes((300, 200)).getvalue(), "image/png")
    response = client.post(reverse("admin:cases_series_add"), series_form_data(case, upload))
    assert response.status_code == 302, response.content.decode()[:3000]
    image = Image.objects.get(series__case=case)
    assert "DOE" not in image.file.name and "MRN" not in image.file.name
    assert (image.width, image.height) == (300, 200)
    assert PIL.Image.open(image.thumbnail).size[0] <= 360


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"this is a text file", "not a PNG or JPEG"),
        (b"", "empty"),
    ],
)
def test_bad_upload_is_reported_by_name_and_nothing_is_saved(client, faculty, payload, reason):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    good = SimpleUploadedFile("good.png", png_bytes().getvalue(), "image/png")
    bad = SimpleUploadedFile("scan-notes.png", payload, "image/png")
    response = client.post(reverse("admin:cases_series_add"), series_form_data(case, good, bad))
    body = response.content.decode()
    assert response.status_code == 200
    assert "scan-notes.png" in body and reason in body
    assert not Series.objects.filter(case=case).exists()
    assert not Image.objects.exists() or not Image.objects.filter(series__case=case).exists()


def test_truncated_jpeg_upload_is_refused(client, faculty):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    whole = io.BytesIO()
    PIL.Image.effect_noise((300, 300), 50).save(whole, format="JPEG")
    cut = SimpleUploadedFile("cut.jpg", whole.getvalue()[:2000], "image/jpeg")
    response = client.post(reverse("admin:cases_series_add"), series_form_data(case, cut))
    assert "truncated" in response.content.decode()
    assert not Series.objects.filter(case=case).exists()


def test_faculty_cannot_attach_a_stage_to_another_authors_case(client, other_faculty, faculty):
    case = make_case(authors=[faculty])
    client.force_login(other_faculty)
    response = client.post(reverse("admin:cases_series_add"), series_form_data(case))
    assert response.status_code == 200
    assert not Series.objects.filter(case=case).exists()


def test_series_of_someone_elses_case_is_not_editable(client, other_faculty, faculty):
    series = make_series(case=make_case(authors=[faculty]))
    client.force_login(other_faculty)
    assert client.get(reverse("admin:cases_series_change", args=[series.pk])).status_code == 302


def test_bulk_upload_keeps_good_files_and_reports_bad_ones_by_name(client, faculty, caplog):
    series = make_series(case=make_case(authors=[faculty], status=Case.Status.DRAFT))
    client.force_login(faculty)
    files = [
        SimpleUploadedFile("first.png", png_bytes((100, 80)).getvalue(), "image/png"),
        SimpleUploadedFile("SMITH^JANE.png", b"not an image", "image/png"),
        SimpleUploadedFile("empty.jpg", b"", "image/jpeg"),
        SimpleUploadedFile("second.png", png_bytes((90, 70)).getvalue(), "image/png"),
    ]
    data = series_form_data(series.case, add_images=files)
    response = client.post(reverse("admin:cases_series_change", args=[series.pk]), data, follow=True)
    body = response.content.decode()
    assert [image.width for image in series.images.order_by("order")] == [100, 90]
    assert "Not added: SMITH^JANE.png — The file is not a PNG or JPEG image." in body
    assert "Not added: empty.jpg — The file is empty." in body
    assert "Added 2 images." in body
    assert "SMITH" not in caplog.text, "upload file names are never logged"
    assert "Refused an image upload" in caplog.text


def test_added_images_are_decoded_after_the_stage_form_has_committed(client, faculty, monkeypatch):
    """Decoding pictures takes time: the authoring screen's transaction (the write lock) is not held meanwhile."""
    series = make_series(case=make_case(authors=[faculty], status=Case.Status.DRAFT))
    client.force_login(faculty)
    depths = []
    prepare = services.image_prepare

    def recording_prepare(upload):
        depths.append(len(connection.atomic_blocks))
        return prepare(upload)

    monkeypatch.setattr(services, "image_prepare", recording_prepare)
    outside = len(connection.atomic_blocks)
    upload = SimpleUploadedFile("first.png", png_bytes((100, 80)).getvalue(), "image/png")
    response = client.post(
        reverse("admin:cases_series_change", args=[series.pk]), series_form_data(series.case, add_images=[upload])
    )
    assert response.status_code == 302
    assert depths == [outside]
    assert series.images.count() == 1


def run_action(client, action: str, *cases):
    data = {"action": action, "_selected_action": [case.pk for case in cases]}
    return client.post(reverse("admin:cases_case_changelist"), data, follow=True)


def test_faculty_submits_for_review_but_cannot_publish_by_action(client, faculty):
    case = make_case(authors=[faculty], status="draft")
    client.force_login(faculty)
    run_action(client, "submit_for_review", case)
    case.refresh_from_db()
    assert case.status == "review"
    run_action(client, "publish", case)
    case.refresh_from_db()
    assert case.status == "review"


def test_editor_publishes_and_retires_by_action(client, editor, faculty):
    case = make_case(authors=[faculty], status="review")
    client.force_login(editor)
    run_action(client, "publish", case)
    case.refresh_from_db()
    assert case.status == "published" and case.published_at is not None
    run_action(client, "retire", case)
    case.refresh_from_db()
    assert case.status == "retired"


def stored_files() -> set[str]:
    from django.conf import settings

    root = settings.MEDIA_ROOT
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_deleting_an_image_row_deletes_its_files(client, faculty, django_capture_on_commit_callbacks):

    series = make_series(case=make_case(authors=[faculty], status=Case.Status.DRAFT))
    image = make_image(series=series)
    names = {image.file.name, image.thumbnail.name}
    assert names <= stored_files()
    client.force_login(faculty)
    data = existing_image_form_data(image) | {"images-0-DELETE": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:cases_series_change", args=[series.pk]), data)
    assert response.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not names & stored_files()


def test_deleting_a_draft_case_deletes_its_files(client, faculty, django_capture_on_commit_callbacks):

    case = make_case(authors=[faculty], status="draft")
    image = make_image(series=make_series(case=case))
    names = {image.file.name, image.thumbnail.name}
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not names & stored_files()


def test_faculty_cannot_delete_a_published_case(client, faculty):
    case = make_case(authors=[faculty], status="published")
    client.force_login(faculty)
    client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"})
    assert Case.objects.filter(pk=case.pk).exists()


def test_faculty_cannot_unpublish_through_the_status_field(client, faculty):
    case = make_case(authors=[faculty], status="published")
    client.force_login(faculty)
    response = client.post(
        reverse("admin:cases_case_change", args=[case.pk]), case_form_data(number=case.number, status="draft")
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "published"


def test_retire_action_leaves_drafts_alone(client, editor, faculty):
    draft = make_case(authors=[faculty], status="draft")
    client.force_login(editor)
    run_action(client, "retire", draft)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_forged_clear_of_an_image_is_an_error_not_a_crash(client, faculty):

    series = make_series(case=make_case(authors=[faculty], status=Case.Status.DRAFT))
    image = make_image(series=series)
    client.force_login(faculty)
    data = existing_image_form_data(image) | {"images-0-upload-clear": "on"}
    response = client.post(reverse("admin:cases_series_change", args=[series.pk]), data)
    assert response.status_code in (200, 302)
    image.refresh_from_db()
    assert image.file.name


def test_case_change_page_costs_the_same_for_2_and_20_stages(client, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.models import DifferentialEntry

    client.force_login(editor)
    client.get(reverse("admin:cases_case_change", args=[make_case().pk]))  # what the first page alone loads, cached
    counts = []
    for stages in (2, 20):
        case = make_case()
        for index in range(stages):
            make_series(case=case)
            DifferentialEntry.objects.create(case=case, order=index, diagnosis="d", reasoning="r")
        cache.clear()  # count the page's queries with nothing cached (cases/page_cache.py)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_view_on_site_opens_only_what_the_admin_shows_this_user(faculty, other_faculty, editor):
    """The admin's shortcut must not tell another faculty member the number of a colleague's draft."""
    draft = make_case(status=Case.Status.DRAFT, authors=[faculty])
    shortcut = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Case).pk, draft.pk])
    for user, expected in ((other_faculty, 404), (faculty, 302), (editor, 302)):
        client = Client()
        client.force_login(user)
        response = client.get(shortcut)
        assert response.status_code == expected, user
        if expected == 302:
            assert response["Location"].endswith(draft.get_absolute_url())
        else:
            assert draft.number not in response.content.decode() + response.get("Location", "")
    client = Client()
    client.force_login(other_faculty)
    assert client.get(shortcut.replace(f"/{draft.pk}/", "/not-a-number/")).status_code == 404


def test_the_admin_system_checks_see_every_registered_admin():
    """The admins register when the root URLconf loads (SimpleAdminConfig), which ``manage.py check`` may run
    after the admin's own checks, so these would check an empty site there: they run here on the full one."""
    admin.autodiscover()
    assert Case in admin.site._registry and len(admin.site._registry) > 10
    assert check_admin_app(None) == []
