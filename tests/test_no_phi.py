"""Invariant 2: no PHI is ever stored.

A corpus with an identifier in every attribute of PS3.15 Table E.1-1 (our
independent copy of the standard's table, not the de-identifier's own) that holds text, a
date or a UID — at the top level, inside a nested sequence and in a private
block — is uploaded through the authoring screen. Then every stored byte (media
files and every database row) and the pages that show the case are scanned:
none of the identifiers, original dates or original UIDs may appear.
"""

import copy
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from pydicom import examples
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from cases.models import Case, Image, Series
from cases.tests.factories import make_case
from imaging.tests.standard_table import exact_tag, load_standard_table
from ingest.models import IngestJob

TEXT_VRS = {"LO", "SH", "PN", "LT", "ST", "UT", "UC", "AE", "CS"}
ORIGINAL_DATE = "19770707"
UID_ROOT = "1.2.826.0.1.3680043.10.777"
KEPT = {"PatientAge", "PatientSex", "PatientSize", "PatientWeight", "PatientSexNeutered", "PregnancyStatus"}
KEPT |= {"Modality", "BodyPartExamined", "BurnedInAnnotation", "PatientIdentityRemoved", "SOPClassUID"}


def marker(index: int) -> str:
    return f"PHI{index:04d}X"


def phi_dataset(instance: int) -> tuple[Dataset, list[str]]:
    """Return a CT object with an identifier planted in every text, date and UID attribute of the table."""
    ds = copy.deepcopy(examples.ct)
    planted = []
    nested = Dataset()
    for index, row in enumerate(load_standard_table()):
        if exact_tag(row) is None or row["keyword"] in KEPT:
            continue
        tag = Tag(exact_tag(row))
        if tag.group in (0x0000, 0x0002):  # command and file meta groups are not part of a stored data set
            continue
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue
        if vr in TEXT_VRS:
            value = marker(index)
            planted.append(value)
        elif vr == "DA":
            value = ORIGINAL_DATE
        elif vr == "UI":
            value = f"{UID_ROOT}.{index}"
            planted.append(value)
        else:
            continue
        ds.add_new(tag, vr, value)
        nested.add_new(tag, vr, value)
    ds.SOPInstanceUID = f"{UID_ROOT}.9999.{instance}"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesInstanceUID = f"{UID_ROOT}.9998"
    ds.StudyInstanceUID = f"{UID_ROOT}.9997"
    ds.RequestAttributesSequence = Sequence([nested])
    block = ds.private_block(0x0029, "PHI CREATOR", create=True)
    block.add_new(0x10, "LO", "PHIPRIVATEX")
    planted += ["PHIPRIVATEX", ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID]
    return ds, planted


def corpus_zip() -> tuple[bytes, list[str]]:
    buffer = io.BytesIO()
    planted = set()
    with zipfile.ZipFile(buffer, "w") as archive:
        for instance in range(3):
            ds, values = phi_dataset(instance)
            planted.update(values)
            file = io.BytesIO()
            ds.save_as(file, enforce_file_format=True)
            archive.writestr(f"PHI0000X/{instance}.dcm", file.getvalue())
        archive.writestr("PHIREFUSEDNAME.txt", b"not DICOM: refused by name on the page, never stored")
    return buffer.getvalue(), sorted(planted)


def database_dump() -> str:
    """Every row of every table, as text."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names come from introspection
            lines += [repr(row) for row in cursor.fetchall()]
    return "\n".join(lines)


def media_files() -> dict[Path, tuple[int, int]]:
    """Every file under the media root with its size and modification time."""
    return {
        path: (stat.st_size, stat.st_mtime_ns)
        for path in Path(settings.MEDIA_ROOT).rglob("*")
        if path.is_file() and (stat := path.stat())
    }


def media_bytes_written_since(before: dict[Path, tuple[int, int]]) -> bytes:
    """The content of the files made or changed since ``before`` (the demo's 112 MB of media are not searched)."""
    return b"".join(path.read_bytes() for path, state in media_files().items() if before.get(path) != state)


@pytest.mark.django_db
def test_no_identifier_date_or_uid_survives_ingest(client, faculty, resident, django_capture_on_commit_callbacks):
    case = make_case(authors=[faculty], status="draft")  # authors import into drafts; residents read it published
    data, planted = corpus_zip()
    assert len(planted) > 200, "the corpus plants identifiers across the table"
    media_before = media_files()
    client.force_login(faculty)
    upload = SimpleUploadedFile("export.zip", data, "application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": [upload]}, follow=True)
    assert Image.objects.filter(series__case=case).count() == 3
    Series.objects.filter(case=case).update(label_confirmed=True)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)

    stored_files = media_bytes_written_since(media_before)
    assert len(stored_files) > 10_000, "the import's frames and pictures are searched"
    rows = database_dump()
    pages = [client.get(case.get_absolute_url()), client.get(reverse("admin:cases_case_change", args=[case.pk]))]
    pages.append(client.get(reverse("admin:cases_series_change", args=[Series.objects.get(case=case).pk])))
    client.force_login(resident)
    pages.append(client.get(case.get_absolute_url()))
    responses = "\n".join(page.content.decode() for page in pages)
    for value in planted:
        assert value.encode() not in stored_files, f"{value} in a stored file"
        assert value not in rows, f"{value} in a database row"
        assert value not in responses, f"{value} in a page"
    assert ORIGINAL_DATE.encode() not in stored_files and ORIGINAL_DATE not in rows
    assert "PHI0000X" not in rows and "PHIREFUSEDNAME" not in rows, "upload file names are not stored"
    answer = response.content.decode()
    names = json.loads(re.search(r'id="import-names"[^>]*>(.*?)</script>', answer).group(1))
    job = IngestJob.objects.get(case=case)
    refused = [names[index - 1] for index, outcome, reason in job.report["files"] if reason == "not a DICOM file"]
    assert [name.rsplit("/", 1)[-1] for name in refused] == ["PHIREFUSEDNAME.txt"], "named once, by the answer page"
    shown_names = " ".join(names)
    for value in planted:  # descriptions included: import_study prints them, the web does not show them
        assert value in shown_names or value not in answer, f"{value} from a header on the answer page"
    assert not (Path(settings.TEACHINGFILE_UPLOAD_SPOOL) / job.token.hex).exists(), "the raw upload is deleted"


@pytest.mark.django_db
def test_nothing_is_written_outside_the_media_root(faculty, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    """The import's temporary folder is one of its own, so the tests running beside it do not count."""
    import tempfile

    case = make_case(authors=[faculty])
    source = tmp_path / "upload.zip"
    source.write_bytes(corpus_zip()[0])
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    from django.core.management import call_command

    with pytest.raises(SystemExit):  # the corpus holds one refused file
        call_command("import_study", str(source), case=case.number, stdout=io.StringIO())
    created = list(temporary.iterdir())
    assert not created, f"files left in the temporary folder: {created}"
