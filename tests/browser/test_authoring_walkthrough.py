"""A faculty author's whole path, counted: from a study a PACS workstation pushed (dcmtk's ``storescu``) to a case
submitted for review with its history, findings, diagnosis, differential, one arrow and one question on its own
images, in at most 30 clicks.

The site runs as it is deployed: ``receive_dicom``, ``db_worker`` and the web server as processes on one database
(the receiver's test fixtures), Chromium driving the web server. Every click (a press, a choice in a list, a file
dialog, a drag) and every typed field goes through ``Effort``, which counts them; the counts are printed at the end.
With ``AUTHORING_DOCS_IMAGES=1`` the walk also writes the screenshots of docs/authoring.md into docs/img/.
"""

import io
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import PIL.Image
import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pydicom.uid import generate_uid

from ingest.tests.conftest import receiver, receiver_env  # noqa: F401 - the receiver's fixtures
from ingest.tests.test_receiver import STORESCU, done
from tests.processes import wait_for

from .conftest import log_in, script_errors
from .test_case_from_study import study_files

pytestmark = [pytest.mark.browser, pytest.mark.postgresql]

MAX_CLICKS = 30
LAPTOP = {"width": 1366, "height": 768}
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"

# What the walk made, read from the site's database by its own shell.
MADE = """
import json
from cases.models import Annotation, Case
from quizzes.models import Question
case = Case.objects.get()
question = Question.objects.get()
print(json.dumps({
    "status": case.status, "region": case.region, "diagnosis": case.diagnosis, "full_history": case.full_history,
    "findings": case.findings.count(), "differential": case.differential.count(),
    "arrows": Annotation.objects.filter(image__series__case=case, kind=Annotation.Kind.ARROW).count(),
    "question": [question.kind, question.case_id == case.pk, question.series.case_id == case.pk,
                 question.target_radius is not None, question.authors.filter(username="faculty").exists()],
}))
"""


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


def docs_image(page, name: str, *, locator=None) -> None:
    """Save a screenshot for docs/authoring.md (asked for by AUTHORING_DOCS_IMAGES=1), small enough to commit."""
    if not os.environ.get("AUTHORING_DOCS_IMAGES"):
        return
    shot = (locator or page).screenshot()
    picture = PIL.Image.open(io.BytesIO(shot)).convert("RGB")
    picture.thumbnail((1100, 1100))
    DOCS_IMAGES.mkdir(exist_ok=True)
    picture.quantize(colors=128).save(DOCS_IMAGES / f"{name}.png", optimize=True)


def push_study(folder: Path, port: int) -> None:
    """Send a two-series study (4 CT slices, 3 MR slices) to the faculty member's AE title with dcmtk's storescu."""
    folder.mkdir()
    for name, data in study_files(generate_uid()).items():
        (folder / name.replace("/", "-")).write_bytes(data)
    command = [STORESCU, "-aet", "WORKSTATION", "-aec", "TF_FACULTY", "127.0.0.1", str(port)]
    sent = subprocess.run([*command, *sorted(folder.iterdir())], capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stderr


def web_server(site_processes: dict) -> str:
    """Start the web server on the receiver's database and media; return its address once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site_processes["start"]("server", "runserver", "--noreload", f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urlopen(url + "/accounts/login/", timeout=5):
                return url
        except (URLError, ConnectionError):
            assert time.monotonic() < deadline, site_processes["logs"]()[-3000:]
            time.sleep(0.1)


def test_a_study_pushed_from_pacs_to_a_submitted_case_in_at_most_30_clicks(
    browser,
    receiver,  # noqa: F811 - the fixture imported above
    tmp_path,
    artifacts,
    capsys,
):
    # The radiologist sends the study from the PACS workstation; the receiver makes the draft, the worker renders it.
    push_study(tmp_path / "export", receiver["port"])
    wait_for(done(receiver), "the draft to be rendered")
    site = web_server(receiver)

    page = browser.new_page(viewport=LAPTOP)
    errors = script_errors(page)
    effort = Effort(page)

    # Logging in: two fields and a click (counted by hand: log_in is the suite's shared helper).
    log_in(page, site, "faculty", reverse("admin:index"))
    effort.clicks, effort.typed, effort.steps = 1, 2, ["Log in"]
    effort.click(page.get_by_role("link", name="Studies received from the PACS"), "The inbox")
    inbox = page.locator("#received-inbox")
    docs_image(page, "authoring-1-inbox")
    draft = inbox.locator("tbody tr").first.get_by_role("link").first
    number = draft.inner_text()
    effort.click(draft, "Open the draft")

    # The case's page: the import's report in words, the stages as cards to look at, then confirm.
    expect(page.locator("#case-import .import-summary li")).to_have_text(
        ["4 CT images became stage 1 (Axial).", "3 MRI images became stage 2 (T2, Axial)."], timeout=30_000
    )
    expect(page.locator(".stage-card")).to_have_count(2)
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
    effort.choose(page.locator("#id_region"), "pelvis", "Region")
    effort.click(page.locator("#findings-group .add-row a"), "Add a finding")
    effort.type(page.locator("#id_findings-0-text"), "Maturing ossification lateral to both hips.")
    effort.click(page.locator("#differential-group .add-row a"), "Add a differential entry")
    effort.type(page.locator("#id_differential-0-diagnosis"), "Osteosarcoma")
    effort.type(page.locator("#id_differential-0-reasoning"), "Zoning runs the other way: mature at the edge.")
    effort.click(page.get_by_role("button", name="Save and continue editing"), "Save and continue")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # One arrow on the CT stage: its page, the annotation editor, draw, save, close, back to the case.
    effort.click(page.locator(".stage-card").first.get_by_role("link", name="Edit stage and images"), "Open stage 1")
    page.wait_for_load_state("load")  # the editor's script listens from then on (a busy machine serves it late)
    effort.click(page.locator("button.annotate-open").first, "Annotations")
    editor = page.get_by_role("dialog", name="Annotate image")
    expect(editor.get_by_role("button", name="Save")).to_be_enabled(timeout=20_000)
    effort.click(editor.get_by_role("button", name="Arrow", exact=True), "Arrow tool")
    effort.drag(editor.locator("canvas").bounding_box(), (0.25, 0.25), (0.55, 0.5), "Draw the arrow")
    effort.type(editor.get_by_label("Label", exact=True), "ossification")
    docs_image(page, "authoring-4-arrow")
    effort.click(editor.get_by_role("button", name="Save"), "Save the arrow")
    expect(editor.get_by_role("status")).to_have_text("Saved")
    effort.click(editor.get_by_role("button", name="Cancel"), "Close the editor")
    effort.click(page.locator(".breadcrumbs").get_by_role("link", name=number), "Back to the case")

    # Submitted for review from the case form: the check refuses placeholders and unchecked stages.
    effort.choose(page.locator("#id_status"), "review", "Status: in review")
    effort.click(page.get_by_role("button", name="Save and continue editing"), "Save and continue")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # One question on this case's own images: click the finding on the MR stage (the CT stage has an arrow).
    effort.click(page.locator(".object-tools").get_by_role("link", name="Add a question"), "Add a question")
    effort.type(page.locator("#id_key"), "ho-where")
    effort.choose(page.locator("#id_kind"), "click", "Kind: click the finding")
    effort.type(page.locator("#id_stem"), "Click the ossification.")
    picker = page.locator(".question-picker")
    effort.click(picker.locator(".picker-stage").nth(1).locator(".picker-thumb"), "Pick the MR stage")
    drawer = page.locator(".target-drawer")
    area = drawer.get_by_role("img", name="Drawing area for the target")
    area.scroll_into_view_if_needed()
    effort.drag(area.bounding_box(), (0.45, 0.45), (0.55, 0.45), "Draw the target")
    expect(drawer.locator(".target-status")).to_contain_text("counts as correct")
    docs_image(page, "authoring-5-question")
    effort.click(page.get_by_role("button", name="Save", exact=True), "Save the question")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    made = json.loads(receiver["shell"](MADE))
    assert made["status"] == "review" and made["region"] == "pelvis"
    assert made["diagnosis"] == "Heterotopic ossification" and made["full_history"].startswith("Ventilated")
    assert made["findings"] == 1 and made["differential"] == 1 and made["arrows"] == 1
    assert made["question"] == ["click", True, True, True, True], "a click question on this case's stage"
    assert errors == []
    with capsys.disabled():
        sys.stdout.write(f"\nauthoring walk-through: {effort.clicks} clicks, {effort.typed} typed fields\n")
        sys.stdout.write(f"  clicks: {'; '.join(effort.steps)}\n")
    assert effort.clicks <= MAX_CLICKS, effort.steps
