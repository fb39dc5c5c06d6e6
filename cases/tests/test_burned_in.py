"""Burned-in text beyond ultrasound (issue 13 §4): what the import holds, and the boxes it pre-draws."""

import io
import logging

import pydicom
import pytest
from django.core.management import call_command

from cases.models import Image
from cases.tests.factories import make_case
from imaging import burned_in
from imaging.tests.corpus import burned_in as corpus
from ingest.frames import render_object

HELD = ["xa", "rf", "dx-text", "mg-text", "op", "ct-screen", "us-no"]
NOT_HELD = ["dx-marker", "dx-clean"]
OCR_FOUND = ["dx-text", "mg-text", "xa", "rf", "ct-screen", "op", "us-no"]


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("burned-in")
    for make in (
        corpus.make_xa_with_identifiers,
        corpus.make_rf_with_identifiers,
        corpus.make_dx_with_identifiers,
        corpus.make_mg_with_identifiers,
        corpus.make_op_with_identifiers,
        corpus.make_ct_screen_save,
        corpus.make_us_flagged_no,
        corpus.make_dx_marker_only,
        corpus.make_dx_without_text,
    ):
        make(folder)
    return folder


@pytest.fixture(scope="module")
def imported(corpus_folder):
    """Render the corpus once as the import does (OCR is the slow part): {file stem: RenderedObject}."""
    rendered = {}
    for path in sorted(corpus_folder.glob("*.dcm")):
        rendered[path.stem], reason = render_object(pydicom.dcmread(path), invert=False, folder="images/test")
        assert reason == ""
    return rendered


@pytest.mark.parametrize("name", HELD)
def test_images_with_identifiers_drawn_in_are_held(imported, name):
    assert imported[name].held


@pytest.mark.parametrize("name", NOT_HELD)
def test_radiographs_with_only_a_marker_or_no_text_are_not_held(imported, name):
    assert not imported[name].held
    assert imported[name].text_regions == []


@pytest.mark.parametrize("name", OCR_FOUND)
def test_the_text_drawn_in_is_boxed_for_the_mask(imported, name):
    """The boxes cover the identifier lines (drawn from near the top left) and nothing far from them."""
    rendered = imported[name]
    width, height = rendered.frames[0].width, rendered.frames[0].height
    assert rendered.text_regions, "boxes are kept where text was found"
    for x, y, w, h in rendered.text_regions:
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
    assert min(y for _, y, _, _ in rendered.text_regions) < height / 4


def drawn_lines(at: tuple[int, int], size: int) -> list[tuple[int, int, int, int]]:
    """Pillow's own boxes (left, top, right, bottom) of the identifier lines as ``corpus.draw_text`` draws them."""
    from PIL import Image as Picture
    from PIL import ImageDraw

    measure = ImageDraw.Draw(Picture.new("L", (1, 1)))
    x, y = at
    boxes = []
    for line in corpus.IDENTIFIERS:
        boxes.append(measure.textbbox((x, y), line, font=corpus._font(size)))
        y += round(size * 1.3)
    return boxes


@pytest.mark.parametrize(("name", "at", "size"), [("dx-text", (32, 32), 32), ("mg-text", (300, 24), 28)])
def test_the_boxes_cover_every_drawn_line_of_a_radiograph(imported, name, at, size):
    """The OCR reads pieces of lines that cross bone; the boxes still cover each whole line."""
    regions = imported[name].text_regions
    for left, top, right, bottom in drawn_lines(at, size):
        assert any(x <= left and y <= top and x + w >= right and y + h >= bottom for x, y, w, h in regions), (
            (left, top, right, bottom),
            regions,
        )


def test_an_import_stores_the_boxes_as_masks_to_confirm_and_no_text(corpus_folder, db):
    case = make_case()
    call_command("import_study", str(corpus_folder / "dx-text.dcm"), case=case.number, stdout=io.StringIO())
    image = Image.objects.get(series__case=case)
    assert image.held_for_review and image.text_regions and image.masks == []
    assert all(isinstance(value, int) for region in image.text_regions for value in region)


def test_without_an_ocr_engine_a_radiograph_is_held_unchecked_and_that_is_logged_once(monkeypatch, caplog):
    from PIL import Image as Picture

    burned_in._tesseract_api.cache_clear()
    burned_in._log_missing.cache_clear()
    monkeypatch.setenv("TESSDATA_PREFIX", "/nonexistent/tessdata")
    picture = Picture.new("L", (64, 64))
    with caplog.at_level(logging.WARNING, logger="imaging.burned_in"):
        first = burned_in.find_text(picture)
        burned_in._tesseract_api.cache_clear()
        second = burned_in.find_text(picture)
    burned_in._tesseract_api.cache_clear()
    assert first.held and not first.checked and second.held
    assert [record.message for record in caplog.records].count(caplog.records[0].message) == 1
    assert "No OCR engine" in caplog.records[0].message


def test_a_site_adds_its_own_modalities(settings, tmp_path, db):
    """A plain CT slice is not held, unless the site lists CT."""
    from pydicom import examples

    path = tmp_path / "ct.dcm"
    examples.ct.save_as(path)
    case = make_case()
    call_command("import_study", str(path), case=case.number, stdout=io.StringIO())
    assert not Image.objects.get(series__case=case).held_for_review
    settings.TEACHINGFILE_BURNED_IN_MODALITIES = frozenset({"CT"})
    other = make_case()
    call_command("import_study", str(path), case=other.number, stdout=io.StringIO())
    assert Image.objects.get(series__case=other).held_for_review


def test_without_an_ocr_engine_the_import_holds_a_radiograph_without_text(corpus_folder, monkeypatch):
    """Never shown unchecked: with no engine even a radiograph without text waits for the author."""
    monkeypatch.setattr(burned_in, "tesseract_reader", lambda: None)
    rendered, _ = render_object(pydicom.dcmread(corpus_folder / "dx-clean.dcm"), invert=False, folder="images/test")
    assert rendered.held and rendered.text_regions == []
