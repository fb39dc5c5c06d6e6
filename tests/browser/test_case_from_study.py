"""A case started from a zip on the add-case page: the study becomes a draft whose page reports the import in
words and shows its stages as cards (the walk-through, ``test_authoring_walkthrough``, starts from PACS instead)."""

import copy
import io
import zipfile

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pydicom import Dataset, FileMetaDataset, examples
from pydicom.uid import BasicTextSRStorage, ExplicitVRLittleEndian, generate_uid

from cases.models import Case

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _part10(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def series_files(template: Dataset, count: int, study: str) -> list[bytes]:
    """``count`` slices of one new series made from a pydicom example, one millimetre apart."""
    series = generate_uid()
    slices = []
    for number in range(1, count + 1):
        ds = copy.deepcopy(template)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber, ds.ImageType = number, ["ORIGINAL", "PRIMARY"]
        ds.ImagePositionPatient = [0, 0, float(number)]
        slices.append(_part10(ds))
    return slices


def study_files(study: str) -> dict[str, bytes]:
    """A small two-series study: 4 CT slices and 3 MR slices, by the folder and name a PACS export gives them."""
    files = {f"CT/IM{n}": data for n, data in enumerate(series_files(examples.ct, 4, study))}
    return files | {f"MR/IM{n}": data for n, data in enumerate(series_files(examples.mr, 3, study))}


def _report(study: str) -> bytes:
    """A structured report of the same study: no pixels, not an image."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = BasicTextSRStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = study, generate_uid(), "SR"
    ds.PatientName, ds.PatientID = "DOE^JANE", "MRN-4711"
    return _part10(ds)


def study_zip() -> bytes:
    """The study as a PACS exports it to a zip, with a structured report and a note beside the images."""
    study = generate_uid()
    members = study_files(study) | {"SR/REPORT": _report(study), "README.TXT": b"Exported by the PACS workstation."}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as export:
        for name, data in members.items():
            export.writestr(name, data)
    return archive.getvalue()


def test_a_zip_chosen_on_the_add_case_page_becomes_a_draft_with_its_report_and_stage_cards(browser, demo_site):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = script_errors(page)
    log_in(page, demo_site, "faculty", reverse("admin:cases_case_add"))
    start = page.locator("form.case-from-study")
    start.get_by_label("DICOM files or zip archives").set_input_files(
        [{"name": "study.zip", "mimeType": "application/zip", "buffer": study_zip()}]
    )
    start.get_by_label("Region").select_option("pelvis")
    start.get_by_role("button", name="Create the case and import").click()

    expect(page.locator("#case-import .import-summary li")).to_have_text(
        [
            "4 CT images became stage 1 (Axial).",
            "3 MRI images became stage 2 (T2, Axial).",
            "2 files were not images (a structured report, a file that is not DICOM).",
        ],
        timeout=60_000,
    )
    expect(page.locator(".stage-card")).to_have_count(2)
    case = Case.objects.get(authors__username="faculty", title__startswith="[TO WRITE]")
    assert case.status == Case.Status.DRAFT and case.region == "pelvis"
    assert errors == []
