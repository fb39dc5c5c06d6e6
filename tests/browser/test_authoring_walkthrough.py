"""A faculty author's whole path, counted: from a study ready to import to a case submitted for review with its
history, findings, diagnosis, differential, one arrow and one question, in at most 30 clicks.

Every click (a press, a choice in a list, a file dialog, a drag) and every typed field goes through ``Effort``,
which counts them; the counts are printed at the end. The study starts as a zip uploaded on the add-case page (a
study pushed from PACS will start it instead). With ``AUTHORING_DOCS_IMAGES=1`` the walk also writes the
screenshots of docs/authoring.md into docs/img/.
"""

import copy
import io
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import PIL.Image
import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pydicom import Dataset, FileMetaDataset, examples
from pydicom.uid import BasicTextSRStorage, ExplicitVRLittleEndian, generate_uid

from cases.models import Annotation, Case
from quizzes.models import Question

from .conftest import log_in, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_CLICKS = 30
LAPTOP = {"width": 1366, "height": 768}
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"


@dataclass
class Effort:
    """What the author does, counted: clicks (presses, choices, file dialogs, drags) and typed fields."""

    page: object
    clicks: int = 0
    typed: int = 0
    steps: list[str] = field(default_factory=list)

    def click(self, locator, step: str) -> None:
        self.clicks += 1
        self.steps.append(step)
        locator.click()

    def choose(self, locator, value: str, step: str) -> None:
        self.clicks += 1
        self.steps.append(step)
        locator.select_option(value)

    def pick_files(self, locator, files: list[dict], step: str) -> None:
        self.clicks += 1  # the file dialog: one click, whatever it holds
        self.steps.append(step)
        locator.set_input_files(files)

    def drag(self, box: dict, start: tuple[float, float], end: tuple[float, float], step: str) -> None:
        self.clicks += 1
        self.steps.append(step)
        mouse = self.page.mouse
        mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
        mouse.down()
        mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=8)
        mouse.up()

    def type(self, locator, text: str) -> None:
        self.typed += 1
        locator.fill(text)


def _part10(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _series(template: Dataset, count: int, study: str, image_type: list[str]) -> list[bytes]:
    """``count`` slices of one new series made from a pydicom example, one millimetre apart."""
    series = generate_uid()
    slices = []
    for number in range(1, count + 1):
        ds = copy.deepcopy(template)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber, ds.ImageType = number, image_type
        ds.ImagePositionPatient = [0, 0, float(number)]
        slices.append(_part10(ds))
    return slices


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
    """A small multi-series study as PACS exports it: 4 CT slices, 3 MR slices, a structured report, a note."""
    study = generate_uid()
    members = {f"CT/IM{n}": data for n, data in enumerate(_series(examples.ct, 4, study, ["ORIGINAL", "PRIMARY"]))}
    members |= {f"MR/IM{n}": data for n, data in enumerate(_series(examples.mr, 3, study, ["ORIGINAL", "PRIMARY"]))}
    members |= {"SR/REPORT": _report(study), "README.TXT": b"Exported by the PACS workstation."}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as export:
        for name, data in members.items():
            export.writestr(name, data)
    return archive.getvalue()


def docs_image(page, name: str, *, locator=None) -> None:
    """Save a screenshot for docs/authoring.md (asked for by AUTHORING_DOCS_IMAGES=1), small enough to commit."""
    if not os.environ.get("AUTHORING_DOCS_IMAGES"):
        return
    shot = (locator or page).screenshot()
    picture = PIL.Image.open(io.BytesIO(shot)).convert("RGB")
    picture.thumbnail((1100, 1100))
    DOCS_IMAGES.mkdir(exist_ok=True)
    picture.quantize(colors=128).save(DOCS_IMAGES / f"{name}.png", optimize=True)


def test_a_case_from_a_study_to_review_in_at_most_30_clicks(browser, demo_site, artifacts, capsys):
    page = browser.new_page(viewport=LAPTOP)
    errors = script_errors(page)
    effort = Effort(page)

    # Logging in: two fields and a click (counted by hand: log_in is the suite's shared helper).
    log_in(page, demo_site, "faculty", reverse("admin:index"))
    effort.clicks, effort.typed, effort.steps = 1, 2, ["Log in"]
    effort.click(page.locator("#content-main .model-case a.addlink"), "Add case")

    start = page.locator("form.case-from-study")
    docs_image(page, "authoring-1-start", locator=start)
    effort.pick_files(
        start.get_by_label("DICOM files or zip archives"),
        [{"name": "study.zip", "mimeType": "application/zip", "buffer": study_zip()}],
        "Choose the study",
    )
    effort.choose(start.get_by_label("Region"), "pelvis", "Region")
    effort.click(start.get_by_role("button", name="Create the case and import"), "Create the case and import")

    # The case's page: the import's report in words, the stages as cards to look at, then confirm.
    summary = page.locator("#case-import .import-summary li")
    expect(summary).to_have_text(
        [
            "4 CT images became stage 1 (Axial).",
            "3 MRI images became stage 2 (T2, Axial).",
            "2 files were not images (a structured report, a file that is not DICOM).",
        ],
        timeout=60_000,
    )
    expect(page.locator(".stage-card")).to_have_count(2)
    case = Case.objects.get(authors__username="faculty", title__startswith="[TO WRITE]")
    page.screenshot(path=artifacts / "authoring-walkthrough-case.png", full_page=True)
    expect(page.locator(".stage-move").first).to_be_visible()  # the cards' script has run
    docs_image(page, "authoring-2-import")
    docs_image(page, "authoring-3-stages", locator=page.locator("#series-group"))
    effort.click(page.locator("#confirm-all-labels"), "Confirm all labels")
    expect(page.locator(".messagelist")).to_contain_text("2 stage labels confirmed.")

    effort.type(page.locator("#id_title"), "Pain in both hips after a long stay in intensive care")
    effort.type(page.locator("#id_brief_history"), "A 34-year-old man, eight weeks after a head injury.")
    effort.type(page.locator("#id_full_history"), "Ventilated for three weeks; stiff hips on mobilisation.")
    effort.type(page.locator("#id_diagnosis"), "Heterotopic ossification")
    effort.click(page.locator("#findings-group .add-row a"), "Add a finding")
    effort.type(page.locator("#id_findings-0-text"), "Maturing ossification lateral to both hips.")
    effort.click(page.locator("#differential-group .add-row a"), "Add a differential entry")
    effort.type(page.locator("#id_differential-0-diagnosis"), "Osteosarcoma")
    effort.type(page.locator("#id_differential-0-reasoning"), "Zoning runs the other way: mature at the edge.")
    effort.click(page.get_by_role("button", name="Save and continue editing"), "Save and continue")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # One arrow on the CT stage: its page, the annotation editor, draw, save, close, back to the case.
    effort.click(page.locator(".stage-card").first.get_by_role("link", name="Edit stage and images"), "Open stage 1")
    effort.click(page.locator("button.annotate-open").first, "Annotations")
    editor = page.get_by_role("dialog", name="Annotate image")
    expect(editor.get_by_role("button", name="Save")).to_be_enabled()
    effort.click(editor.get_by_role("button", name="Arrow", exact=True), "Arrow tool")
    effort.drag(editor.locator("canvas").bounding_box(), (0.25, 0.25), (0.55, 0.5), "Draw the arrow")
    effort.type(editor.get_by_label("Label", exact=True), "ossification")
    docs_image(page, "authoring-4-arrow")
    effort.click(editor.get_by_role("button", name="Save"), "Save the arrow")
    expect(editor.get_by_role("status")).to_have_text("Saved")
    effort.click(editor.get_by_role("button", name="Cancel"), "Close the editor")
    effort.click(page.locator(".breadcrumbs").get_by_role("link", name=case.number), "Back to the case")

    # Submitted for review from the case form: the check refuses placeholders and unchecked stages.
    effort.choose(page.locator("#id_status"), "review", "Status: in review")
    effort.click(page.get_by_role("button", name="Save", exact=True), "Save")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # One question (today's question form; it cannot name a draft's images until the case is published).
    effort.click(page.locator("#nav-sidebar .model-question a.addlink"), "Add question")
    effort.type(page.locator("#id_key"), "ho-zoning")
    effort.choose(page.locator("#id_kind"), "sba", "Kind: single best answer")
    effort.type(page.locator("#id_stem"), "Which feature favours heterotopic ossification over osteosarcoma?")
    answers = ["Peripheral maturation", "Central mineralisation", "Periosteal reaction", "Soft-tissue mass", "Pain"]
    for index, text in enumerate(answers):
        effort.type(page.locator(f"#id_options-{index}-text"), text)
        effort.type(
            page.locator(f"#id_options-{index}-rationale"), "Zoning: mature at the edge." if index == 0 else "Both."
        )
    effort.click(page.locator("#id_options-0-is_correct"), "The correct option")
    effort.click(page.get_by_role("button", name="Save", exact=True), "Save the question")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW
    assert case.diagnosis == "Heterotopic ossification" and case.full_history.startswith("Ventilated")
    assert case.findings.count() == 1 and case.differential.count() == 1
    assert Annotation.objects.filter(image__series__case=case, kind=Annotation.Kind.ARROW).count() == 1
    assert Question.objects.filter(key="ho-zoning", options__is_correct=True).exists()
    assert errors == []
    with capsys.disabled():
        sys.stdout.write(f"\nauthoring walk-through: {effort.clicks} clicks, {effort.typed} typed fields\n")
        sys.stdout.write(f"  clicks: {'; '.join(effort.steps)}\n")
    assert effort.clicks <= MAX_CLICKS, effort.steps
