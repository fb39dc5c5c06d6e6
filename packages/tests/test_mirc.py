"""A MIRCdocument zip becomes a draft with its sections mapped; patient and PHI elements are not kept."""

import io
from pathlib import Path

import PIL.Image
import pytest
from django.core import serializers
from pydicom.data import get_testdata_file

from cases.models import Case, Image, Modality
from packages.archive import PackageRefused

from .helpers import import_bytes, zip_of

pytestmark = pytest.mark.django_db

DOCUMENT = Path(__file__).parent / "data" / "MIRCdocument.xml"
PLANTED = ["PLANTED", "4711", "0815", "planted.author@example.org", "Planted race", "CompressedSamples"]


def picture(kind: str) -> bytes:
    buffer = io.BytesIO()
    PIL.Image.new("L", (256, 256), 90).save(buffer, format=kind)
    return buffer.getvalue()


def mirc_zip(xml: bytes | None = None) -> bytes:
    """The sample document in a folder of its own, as MIRC's export writes it, with its images."""
    return zip_of(
        {
            "ho-case/MIRCdocument.xml": xml if xml is not None else DOCUMENT.read_bytes(),
            "ho-case/radiograph.jpg": picture("JPEG"),
            "ho-case/radiograph_icon.jpg": picture("JPEG"),
            "ho-case/radiograph.dcm": Path(get_testdata_file("CT_small.dcm", download=False)).read_bytes(),
            "ho-case/ct.png": picture("PNG"),
        }
    )


def test_a_mirc_document_becomes_a_draft_with_its_sections_mapped(faculty):
    result = import_bytes(mirc_zip(), by=faculty)
    case = result.cases[0]
    assert result.kind == "MIRC document"
    assert case.status == Case.Status.DRAFT and list(case.authors.all()) == [faculty]
    assert case.title == "Case imported from MIRC"  # MIRC's title names the diagnosis
    assert "Heterotopic ossification after hip arthroplasty" in case.keywords
    assert case.brief_history == "Hip pain and stiffness six months after a right total hip arthroplasty."
    assert [finding.text for finding in case.findings.all()] == [
        "Mature bone bridges the greater trochanter and the ilium.",
        "No loosening of the components.",
    ]
    assert case.diagnosis == "Heterotopic ossification, Brooker grade 3"
    assert [entry.diagnosis for entry in case.differential.all()] == ["Myositis ossificans", "Parosteal osteosarcoma"]
    assert case.discussion.startswith("Heterotopic ossification follows about a third")
    assert "<1 in 10" in case.discussion and "## Treatment" in case.discussion
    assert case.references.get().citation.startswith("Brooker AF")
    assert case.credit == "Dr Planted Author (Example University Hospital)"
    assert (case.patient_age_years, case.patient_sex, case.region) == (67, "F", "pelvis")


def test_the_mirc_images_become_one_stage_held_for_review(faculty):
    case = import_bytes(mirc_zip(), by=faculty).cases[0]
    stage = case.series.get()
    assert stage.modality == Modality.RADIOGRAPH and not stage.label_confirmed
    images = list(stage.images.all())
    assert [image.caption for image in images] == ["AP radiograph of the pelvis.", "Axial CT through the hips."]
    assert all(image.held_for_review for image in images)
    assert images[0].dicom_file and not images[1].dicom_file


def test_no_patient_element_or_identifier_is_stored(faculty):
    """The planted name, ids, MRN, race, the author's e-mail and the DICOM's patient name are nowhere."""
    case = import_bytes(mirc_zip(), by=faculty).cases[0]
    rows = [case, *case.findings.all(), *case.differential.all(), *case.references.all(), *case.series.all()]
    rows += list(Image.objects.filter(series__case=case))
    text = serializers.serialize("json", rows)
    for value in PLANTED:
        assert value not in text, value
    dicom = Image.objects.filter(series__case=case).exclude(dicom_file="").get().dicom_file
    with dicom.open("rb") as handle:
        stored = handle.read()
    assert b"CompressedSamples" not in stored


def test_an_old_patients_age_is_not_kept(faculty):
    xml = DOCUMENT.read_bytes().replace(b"<years>67</years>", b"<years>93</years>")
    assert import_bytes(mirc_zip(xml), by=faculty).cases[0].patient_age_years is None


@pytest.mark.parametrize("years", ["²", "-5", "", "6 7"])
def test_an_age_not_in_digits_is_left_out(faculty, years):
    """An age of "²" passes ``isdigit`` but not ``int``: the age is left out, the document still imported."""
    xml = DOCUMENT.read_bytes().replace(b"<years>67</years>", f"<years>{years}</years>".encode())
    assert import_bytes(mirc_zip(xml), by=faculty).cases[0].patient_age_years is None


def test_xml_with_entities_is_refused(faculty):
    """defusedxml refuses entity declarations (billion laughs, external entities)."""
    xml = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><MIRCdocument><title>&a;</title></MIRCdocument>'
    with pytest.raises(PackageRefused, match="not well-formed XML"):
        import_bytes(mirc_zip(xml), by=faculty)
    assert not Case.objects.filter(keywords__contains="aaaa").exists()


def test_markup_in_a_mirc_text_is_refused(faculty):
    xml = DOCUMENT.read_bytes().replace(b"No loosening", b"&lt;script&gt;alert(1)&lt;/script&gt; No loosening")
    with pytest.raises(PackageRefused, match="holds HTML markup"):
        import_bytes(mirc_zip(xml), by=faculty)
