"""Every kind of bad package is refused with a reason, and nothing of it is saved: no row, no file."""

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Annotation, Case, CaseFinding, Image, Series
from packages.archive import PackageLimits, PackageRefused
from quizzes.models import Question

from .helpers import export_bytes, import_bytes, members, zip_of
from .test_roundtrip import small_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(faculty) -> dict[str, bytes]:
    """The members of a good package: two stages, a DICOM object, a picture with an arrow, two questions."""
    return members(export_bytes(small_case(faculty)))


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(Path(folder, name).relative_to(root)) for folder, _dirs, names in os.walk(root) for name in names}


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Case, CaseFinding, Series, Image, Annotation, Question))


def refused(data: bytes, by, **kwargs) -> str:
    """Import ``data``, expect a refusal, check nothing was saved; return the reason."""
    before, files = counts(), media_files()
    with pytest.raises(PackageRefused) as caught:
        import_bytes(data, by=by, **kwargs)
    assert counts() == before
    assert media_files() == files
    return str(caught.value)


def with_case(package: dict, change) -> bytes:
    document = json.loads(package["case.json"])
    change(document)
    return zip_of({**package, "case.json": document})


def test_the_good_package_imports(package, faculty):
    assert import_bytes(zip_of(package), by=faculty).cases


@pytest.mark.parametrize("name", ["../escape.png", "images/../../escape.png", "/etc/escape.png", "C:/escape.png"])
def test_a_path_outside_the_package_is_refused(package, faculty, name):
    assert "path" in refused(zip_of({**package, name: b"x"}), faculty)


def test_a_backslash_path_is_refused(package, faculty):
    assert "unsafe path" in refused(zip_of({**package, "..\\escape.png": b"x"}), faculty)


def test_a_zip_bomb_is_refused_by_its_ratio(package, faculty):
    reason = refused(zip_of({**package, "padding.bin": b"\0" * (8 * 1024**2)}), faculty)
    assert "zip bomb" in reason


def test_more_bytes_than_the_limit_are_refused(package, faculty):
    assert "expands to" in refused(zip_of(package), faculty, limits=PackageLimits(max_bytes=10_000))


def test_more_members_than_the_limit_are_refused(package, faculty):
    assert "files; a package may hold 3" in refused(zip_of(package), faculty, limits=PackageLimits(max_members=3))


def test_a_member_larger_than_the_limit_is_refused(package, faculty):
    limits = PackageLimits(max_member_bytes=10_000)
    assert "larger than" in refused(zip_of(package), faculty, limits=limits)


def test_a_file_that_is_not_a_zip_is_refused(faculty):
    assert "not a zip" in refused(b"PK\x03\x04 not really a zip", faculty)


def test_a_zip_without_a_package_or_mirc_document_is_refused(faculty):
    assert "neither a teaching-file package" in refused(zip_of({"notes.txt": b"hello"}), faculty)


def test_an_unknown_format_is_refused(package, faculty):
    data = with_case(package, lambda document: document.update(format="someone-elses-case"))
    assert "unknown format" in refused(data, faculty)


def test_an_unknown_version_is_refused(package, faculty):
    data = with_case(package, lambda document: document.update(version=2))
    assert "version 2; this site reads version 1" in refused(data, faculty)


def test_invalid_json_is_refused(package, faculty):
    assert "not valid JSON" in refused(zip_of({**package, "case.json": b"{not json"}), faculty)


def test_json_the_schema_refuses_is_refused(package, faculty):
    data = with_case(package, lambda document: document["case"].update(stages="none"))
    assert "case.stages should be array" in refused(data, faculty)
    data = with_case(package, lambda document: document["case"].update(owner_email="someone@example.org"))
    assert "field the format does not know" in refused(data, faculty)


def test_a_missing_file_is_refused(package, faculty):
    del package["images/2-1.png"]
    assert "names images/2-1.png, but the zip does not contain it" in refused(zip_of(package), faculty)


@pytest.mark.parametrize(
    ("place", "value", "reason"),
    [
        (("title",), "x" * 201, "case.title is longer than 200 characters"),
        (("diagnosis",), "x" * 201, "case.diagnosis is longer than 200 characters"),
        (("stages", 0, "caption"), "x" * 301, "case.stages[1].caption is longer than 300 characters"),
        (("stages", 1, "images", 0, "annotations", 0, "label"), "x" * 81, "longer than 80 characters"),
        (("stages", 0, "study_day"), 99_999, "case.stages[1].study_day"),
        (("stages", 1, "images", 0, "annotations", 0, "x1"), 2.0, "annotations[1].x1"),
        (("patient_age_years",), 130, "case.patient_age_years"),
        (("references", 0, "url"), "javascript:alert(1)", "case.references[1]"),
    ],
)
def test_a_value_past_a_field_limit_is_refused(package, faculty, place, value, reason):
    def change(document):
        target = document["case"]
        for step in place[:-1]:
            target = target[step]
        target[place[-1]] = value

    assert reason in refused(with_case(package, change), faculty)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("discussion", "See <script>alert(1)</script> here."),
        ("brief_history", 'Pain. <img src="x" onerror="alert(1)">'),
        ("teaching_points", "- a point <!-- hidden -->"),
        ("full_history", "<a href='javascript:alert(1)'>history</a>"),
    ],
)
def test_foreign_html_in_text_is_refused(package, faculty, field, text):
    data = with_case(package, lambda document: document["case"].update({field: text}))
    assert f"case.{field} holds HTML markup" in refused(data, faculty)


def test_markdown_and_comparisons_are_not_markup(package, faculty):
    text = "**Bold**, a list:\n\n- gap < 1 cm\n- 3 > 2 and [a link](https://example.org)"
    data = with_case(package, lambda document: document["case"].update(discussion=text))
    assert import_bytes(data, by=faculty).cases[0].discussion == text


def test_corrupt_dicom_is_refused_and_the_pictures_already_written_are_deleted(package, faculty):
    """The DICOM of stage 1 is read after its picture was stored: that picture goes too."""
    package["dicom/1-1.dcm"] = package["dicom/1-1.dcm"][:400]
    assert refused(zip_of(package), faculty).startswith("dicom/1-1.dcm: ")


def test_a_damaged_picture_is_refused(package, faculty):
    package["images/2-1.png"] = b"\x89PNG\r\n\x1a\n broken"
    assert refused(zip_of(package), faculty).startswith("images/2-1.png: ")


def test_a_polygon_target_that_crosses_itself_is_refused(package, faculty):
    bow_tie = [[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]]
    data = with_case(package, lambda document: document["case"]["questions"][1].update(target_points=bow_tie))
    assert "case.questions[2].target_points: " in refused(data, faculty)


def test_a_question_naming_a_missing_stage_is_refused(package, faculty):
    data = with_case(package, lambda document: document["case"]["questions"][0].update(stage=9))
    assert "names a stage the case does not have" in refused(data, faculty)


@pytest.mark.parametrize(
    ("stage", "gate", "message"),
    [
        (0, {"kind": "next_step", "options": "*", "reasoning": "Why."}, "case.stages[1].gate.options: Write at least"),
        (1, {"kind": "impression", "options": "", "reasoning": "Why."}, "shown only after the reveal"),
    ],
)
def test_a_gate_the_authoring_screen_refuses_is_refused(package, faculty, stage, gate, message):
    """A "next step" gate without options could never be answered: its case could never be revealed."""
    gate = {"question": ""} | gate
    data = with_case(package, lambda document: document["case"]["stages"][stage].update(gate=gate))
    assert message in refused(data, faculty)


def test_a_refusal_is_logged_without_the_names_in_the_zip(package, faculty, client, caplog):
    client.force_login(faculty)
    upload = zip_of({**package, "Doe^John/../../x.png": b"x"})
    with caplog.at_level("WARNING", logger="packages.views"):
        response = client.post(
            "/admin/cases/case/import-package/", {"package": _named(upload, "Doe^John.zip")}, follow=False
        )
    assert response.status_code == 400
    assert "climbs out of the package" in response.content.decode()
    assert "Package import refused" in caplog.text and "Doe" not in caplog.text


def _named(data: bytes, name: str):
    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_a_member_holding_more_than_it_declares_is_refused(package, faculty):
    """A zip whose header under-states a member's size: reading stops at the declared size."""
    data = bytearray(zip_of(package, compression=zipfile.ZIP_STORED))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("case.json")
    assert info.file_size > 10
    # The central directory entry's uncompressed size is at offset 24 of its record.
    record = bytes(data).rfind(b"PK\x01\x02", 0, len(data))
    while bytes(data[record + 46 : record + 46 + len(b"case.json")]) != b"case.json":
        record = bytes(data).rfind(b"PK\x01\x02", 0, record)
    data[record + 24 : record + 28] = (10).to_bytes(4, "little")
    reason = refused(bytes(data), faculty)
    assert "case.json" in reason
