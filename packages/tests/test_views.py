"""The package pages of the authoring screen: who may export and import, what a person sees."""

import logging

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Case
from cases.tests.factories import make_case

from .helpers import export_bytes, members, zip_of

pytestmark = pytest.mark.django_db


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("case.zip", data, content_type="application/zip")


def test_the_case_screen_offers_the_export_and_the_list_the_import(client, faculty):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    change = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert reverse("admin:cases_case_package", args=[case.pk]) in change and "Export package" in change
    listing = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert reverse("admin:cases_case_package_import") in listing and "export_packages" in listing


def test_an_author_downloads_the_package_of_their_case(client, faculty):
    case = make_case(authors=[faculty])
    client.force_login(faculty)
    response = client.get(reverse("admin:cases_case_package", args=[case.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f'filename="{case.number}-package.zip"' in response["Content-Disposition"]
    assert "case.json" in members(b"".join(response.streaming_content))


@pytest.mark.parametrize("role", ["resident", "other_faculty"])
def test_who_may_not_edit_the_case_may_not_export_it(client, faculty, role, request):
    case = make_case(authors=[faculty])
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("admin:cases_case_package", args=[case.pk]))
    assert response.status_code in (302, 403)
    assert response.get("Content-Type") != "application/zip"


def test_the_action_exports_the_selected_cases_the_user_may_edit(client, faculty, other_faculty):
    mine, others = make_case(authors=[faculty]), make_case(authors=[other_faculty])
    client.force_login(faculty)
    data = {"action": "export_packages", ACTION_CHECKBOX_NAME: [mine.pk, others.pk]}
    response = client.post(reverse("admin:cases_case_changelist"), data)
    assert response.status_code == 200
    names = members(b"".join(response.streaming_content))
    assert "case.json" in names and "collection.json" not in names  # the other's case is not even selectable


def test_the_action_exports_several_cases_as_a_collection(client, editor):
    first, second = make_case(), make_case()
    client.force_login(editor)
    data = {"action": "export_packages", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}
    response = client.post(reverse("admin:cases_case_changelist"), data)
    names = members(b"".join(response.streaming_content))
    assert {"collection.json", "case-1/case.json", "case-2/case.json"} <= set(names)


def test_an_import_opens_the_new_draft_with_a_message(client, faculty, other_faculty):
    case = make_case(authors=[other_faculty], title="A package from elsewhere")
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_case_package_import"), {"package": upload(export_bytes(case))})
    imported = Case.objects.get(title="A package from elsewhere", authors=faculty)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_case_change", args=[imported.pk])
    page = client.get(response["Location"]).content.decode()
    assert f"Imported the package as draft {imported.number}. Nothing is published." in page


def test_a_resident_may_not_import(client, resident, faculty):
    client.force_login(resident)
    case = make_case(authors=[faculty])
    before = Case.objects.count()
    response = client.post(reverse("admin:cases_case_package_import"), {"package": upload(export_bytes(case))})
    assert response.status_code in (302, 403) and reverse("admin:login") in response.get("Location", "")
    assert Case.objects.count() == before


def test_a_refused_package_shows_the_reason_on_the_form(client, faculty):
    client.force_login(faculty)
    before = Case.objects.count()
    response = client.post(reverse("admin:cases_case_package_import"), {"package": upload(b"not a zip")})
    assert response.status_code == 400
    assert "The package was not imported: The file is not a zip archive" in response.content.decode()
    assert Case.objects.count() == before


def test_a_package_larger_than_the_limit_is_refused_before_it_is_opened(client, faculty, settings):
    settings.TEACHINGFILE_MAX_ARCHIVE_BYTES = 1024**2
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_case_package_import"), {"package": upload(b"\0" * (1024**2 + 1))})
    assert response.status_code == 400
    assert "larger than 1 MB, the limit for a package" in response.content.decode()


def test_a_refused_mirc_document_is_logged_without_its_path_in_the_zip(client, faculty, caplog):
    """A MIRC export's folder is often named after the patient: the operator's log line leaves it out."""
    references = "".join(f"<reference>Paper {number}.</reference>" for number in range(101))
    xml = f"<MIRCdocument><title>A case</title><references>{references}</references></MIRCdocument>"
    data = zip_of({"DOE^JANE MRN8675309/MIRCdocument.xml": xml})
    client.force_login(faculty)
    caplog.set_level(logging.DEBUG)
    response = client.post(reverse("admin:cases_case_package_import"), {"package": upload(data)})
    assert response.status_code == 400
    assert "more than 100 entries" in response.content.decode()
    assert caplog.records and not [record for record in caplog.records if "8675309" in record.getMessage()]
