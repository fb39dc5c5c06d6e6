"""The authoring page: stages as cards, all labels confirmed in one action, a case started from a DICOM study."""

import io
import logging
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pydicom import examples

from cases import drafts, services
from cases.models import Case
from cases.tests.factories import make_case, make_image, make_series
from ingest.models import IngestJob

from .test_admin import case_form_data


def confirm(client, case, *stages):
    url = reverse("admin:cases_case_confirm_labels", args=[case.pk])
    return client.post(url, {"stage": [stage.pk for stage in stages]})


def test_the_case_page_shows_each_stage_as_a_card_with_its_held_images(client, faculty):
    case = make_case(authors=[faculty], status="draft")
    stage = make_series(case=case, label_confirmed=False)
    held = make_image(series=stage)
    held.__class__.objects.filter(pk=held.pk).update(held_for_review=True)
    make_image(series=stage, order=2)
    client.force_login(faculty)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert f'id="stage-card-{stage.pk}"' in page
    assert "2 images" in page and "1 held for burned-in text" in page
    assert 'id="confirm-all-labels"' in page and "Confirm all labels (1)" in page


def test_confirm_all_labels_confirms_the_stages_shown_each_as_a_single_confirm_would(client, faculty, caplog):
    case = make_case(authors=[faculty], status="draft")
    seen = [make_series(case=case, label_confirmed=False) for _ in range(2)]
    arrived_later = make_series(case=case, label_confirmed=False)
    elsewhere = make_series(case=make_case(authors=[faculty], status="draft"), label_confirmed=False)
    client.force_login(faculty)
    with caplog.at_level(logging.INFO, logger="cases.checks"):
        response = confirm(client, case, *seen, elsewhere)
    assert response.status_code == 302
    assert [stage.label_confirmed for stage in case.series.order_by("order")] == [True, True, False]
    assert not arrived_later.__class__.objects.get(pk=arrived_later.pk).label_confirmed, "not shown: not confirmed"
    elsewhere.refresh_from_db()
    assert not elsewhere.label_confirmed, "a stage of another case is not confirmed through this one"
    logged = [record.getMessage() for record in caplog.records]
    assert logged == [f"Stage {stage.pk} label confirmed by user {faculty.pk}" for stage in seen]


def test_confirm_all_labels_is_refused_on_a_case_the_person_cannot_edit(client, faculty, other_faculty):
    case = make_case(authors=[faculty], status="draft")
    stage = make_series(case=case, label_confirmed=False)
    client.force_login(other_faculty)
    assert confirm(client, case, stage).status_code == 403
    stage.refresh_from_db()
    assert not stage.label_confirmed


def test_confirm_all_labels_leaves_a_published_case_to_an_editor(client, faculty):
    case = make_case(authors=[faculty], status="published")
    stage = make_series(case=case, label_confirmed=False)
    client.force_login(faculty)
    response = confirm(client, case, stage)
    assert response.status_code == 302
    stage.refresh_from_db()
    assert not stage.label_confirmed


def test_confirm_all_labels_ignores_forged_stage_values(client, faculty):
    """Values that are no stage's id ("²", which ``isdigit`` accepts, or past the database's integers) are
    ignored: no error page, and the stage listed is confirmed."""
    case = make_case(authors=[faculty], status="draft")
    stage = make_series(case=case, label_confirmed=False)
    client.force_login(faculty)
    url = reverse("admin:cases_case_confirm_labels", args=[case.pk])
    response = client.post(url, {"stage": ["²", "x", "9" * 30, str(stage.pk)]})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert stage.label_confirmed


def test_confirm_all_labels_needs_the_csrf_token(faculty):
    from django.test import Client

    case = make_case(authors=[faculty], status="draft")
    stage = make_series(case=case, label_confirmed=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(faculty)
    assert confirm(client, case, stage).status_code == 403
    stage.refresh_from_db()
    assert not stage.label_confirmed


def test_a_move_of_the_cards_is_saved_as_the_stages_order(client, faculty):
    case = make_case(authors=[faculty], status="draft")
    first, second = make_series(case=case, order=1), make_series(case=case, order=2)
    data = case_form_data(number=case.number) | {"series-TOTAL_FORMS": 2, "series-INITIAL_FORMS": 2}
    for index, (stage, order) in enumerate([(first, 2), (second, 1)]):
        data |= {f"series-{index}-id": stage.pk, f"series-{index}-case": case.pk, f"series-{index}-order": order}
        data |= {f"series-{index}-modality": "XR", f"series-{index}-caption": ""}
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(case.series.order_by("order").values_list("pk", flat=True)) == [second.pk, first.pk]


def study_zip() -> SimpleUploadedFile:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as export:
        for name, dataset in (("CT/1", examples.ct), ("MR/1", examples.mr)):
            buffer = io.BytesIO()
            dataset.save_as(buffer)
            export.writestr(name, buffer.getvalue())
        export.writestr("REPORT.txt", b"a report")
    return SimpleUploadedFile("study.zip", archive.getvalue(), content_type="application/zip")


def test_the_add_case_page_offers_to_start_from_a_dicom_study(client, faculty):
    client.force_login(faculty)
    page = client.get(reverse("admin:cases_case_add")).content.decode()
    assert f'action="{reverse("admin:cases_case_from_study")}"' in page
    assert 'name="study-files"' in page and 'name="study-region"' in page


def test_a_study_becomes_a_draft_with_placeholders_and_its_import(client, faculty, django_capture_on_commit_callbacks):
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:cases_case_from_study"), {"study-files": study_zip(), "study-region": "chest"}
        )
    case = Case.objects.get(authors=faculty)
    assert response.status_code == 302 and response["Location"] == reverse("admin:cases_case_change", args=[case.pk])
    assert case.status == Case.Status.DRAFT and case.region == "chest"
    assert all(drafts.is_placeholder(getattr(case, name)) for name in ("title", "brief_history", "diagnosis"))
    assert case.series.count() == 2
    page = client.get(response["Location"]).content.decode()
    summary = page[page.index('<ul class="import-summary">') : page.index("</ul>", page.index("import-summary"))]
    assert "<li>1 CT image became stage 1 (Axial).</li>" in summary
    assert "<li>1 MRI image became stage 2 (T2, Axial).</li>" in summary
    assert "<li>1 file was not an image (a file that is not DICOM).</li>" in summary


def test_a_study_without_files_or_region_is_refused_and_nothing_is_made(client, faculty):
    client.force_login(faculty)
    before = Case.objects.count()
    response = client.post(reverse("admin:cases_case_from_study"), {"study-region": ""})
    assert response.status_code == 200
    assert "Choose DICOM files, zip archives or a folder." in response.content.decode()
    assert Case.objects.count() == before


def test_a_study_whose_spooling_fails_leaves_no_draft_and_no_job(client, faculty, monkeypatch):
    """The draft and its import are made together or not at all (the disk fills while the upload is spooled)."""

    def disk_full(upload, path):
        raise OSError("No space left on device")

    monkeypatch.setattr("ingest.upload.spool_file", disk_full)
    client.raise_request_exception = False
    client.force_login(faculty)
    before = Case.objects.count(), IngestJob.objects.count()
    response = client.post(
        reverse("admin:cases_case_from_study"), {"study-files": study_zip(), "study-region": "chest"}
    )
    assert response.status_code == 500
    assert (Case.objects.count(), IngestJob.objects.count()) == before


def test_a_resident_cannot_start_a_case_from_a_study(client, resident):
    client.force_login(resident)
    before = Case.objects.count()
    response = client.post(
        reverse("admin:cases_case_from_study"), {"study-files": study_zip(), "study-region": "chest"}
    )
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert Case.objects.count() == before


def test_the_publish_check_refuses_a_case_whose_placeholders_remain(faculty, editor):
    case = drafts.case_create_draft(by=faculty, region="chest")
    with pytest.raises(services.NotReadyToPublish, match="Still placeholder text: title, brief history, diagnosis"):
        services.case_set_status(case=case, status=Case.Status.IN_REVIEW, by=faculty)
    case.title, case.brief_history = "Pain after a fall", "A fall."
    case.save()
    with pytest.raises(services.NotReadyToPublish, match="Still placeholder text: diagnosis"):
        services.case_set_status(case=case, status=Case.Status.PUBLISHED, by=editor)
    case.diagnosis = "Fracture"
    case.save()
    assert services.case_set_status(case=case, status=Case.Status.IN_REVIEW, by=faculty).status == "review"


def test_the_case_form_refuses_to_submit_while_a_placeholder_remains(client, faculty):
    case = drafts.case_create_draft(by=faculty, region="chest")
    client.force_login(faculty)
    data = case_form_data(number=case.number, status="review", diagnosis=case.diagnosis)
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 200
    assert "Still the placeholder: write it before the case is submitted." in response.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_new_drafts_take_the_next_free_number_after_the_newest(faculty):
    make_case(number="zz121")
    make_case(number="zz120")
    make_case(number="unnumbered")
    assert drafts.case_create_draft(by=faculty, region="chest").number == "zz122", "zz121 is taken"
