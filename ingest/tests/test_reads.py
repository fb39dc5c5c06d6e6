"""What an import reads: each byte of an uploaded file once, and never the de-identified objects it stored.

Counted through the real files the import opens (``io.open``, which ``pathlib`` and ``zipfile`` use, wrapped
to count the bytes each read returns) and through the storage's ``_open``; the test settings run the workers
in this process, so every read is seen.  The viewer values, prepared afterwards by a task of their own, do
read the stored objects: that task is only recorded here.
"""

import io
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from pydicom import examples

import cases.tasks
from cases.models import Image
from cases.tests.factories import make_case
from ingest.models import IngestJob
from ingest.tests.test_pipeline import dicom_bytes


class CountingFile:
    """An open file whose reads add the bytes they return to ``counts[key]``."""

    def __init__(self, file, counts: Counter, key: str) -> None:
        self._file, self._counts, self._key = file, counts, key

    def read(self, *args) -> bytes:
        data = self._file.read(*args)
        self._counts[self._key] += len(data)
        return data

    def readinto(self, buffer) -> int:
        count = self._file.readinto(buffer)
        self._counts[self._key] += count or 0
        return count

    def __enter__(self):
        return self

    def __exit__(self, *exception) -> None:
        self._file.close()

    def __getattr__(self, name: str):
        return getattr(self._file, name)


@pytest.fixture
def reads(monkeypatch):
    """Count the bytes read from each file under the spool and the folder the test gives, and storage opens."""
    counts: Counter = Counter()
    opened: list[str] = []
    real_open, real_storage_open = io.open, FileSystemStorage._open
    watched = [Path(settings.TEACHINGFILE_UPLOAD_SPOOL).resolve()]

    def counting_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if (
            isinstance(file, str | Path)
            and "r" in mode
            and any(Path(file).resolve().is_relative_to(folder) for folder in watched)
        ):
            return CountingFile(handle, counts, Path(file).name)
        return handle

    def counting_storage_open(storage, name, mode="rb"):
        opened.append(name)
        return real_storage_open(storage, name, mode)

    monkeypatch.setattr(cases.tasks, "series_prepare_values", lambda series: opened.append("values task") or 0)
    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(FileSystemStorage, "_open", counting_storage_open)
    return counts, opened, watched


def test_the_web_uploads_task_reads_each_spooled_byte_once_and_no_stored_object_back(
    client, faculty, reads, django_capture_on_commit_callbacks
):
    counts, opened, _ = reads
    case = make_case(authors=[faculty], status="draft")
    files = {"ct.dcm": dicom_bytes(examples.ct), "mr.dcm": dicom_bytes(examples.mr)}
    client.force_login(faculty)
    with django_capture_on_commit_callbacks() as queued:
        uploads = [SimpleUploadedFile(name, data, "application/dicom") for name, data in files.items()]
        client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": uploads})
    counts.clear()  # the request's own listing of the upload reads the heads; the task starts here
    queued[0]()
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE, job.report
    assert Image.objects.filter(series__case=case).count() == 2
    assert counts == {"1": len(files["ct.dcm"]), "2": len(files["mr.dcm"])}, "every byte once"
    assert not [name for name in opened if name.startswith("dicom/")], "no de-identified object is read back"
    assert "values task" in opened, "the viewer values are still prepared, afterwards"


def test_the_command_reads_each_file_once_and_no_stored_object_back(db, reads, tmp_path):
    counts, opened, watched = reads
    watched.append(tmp_path.resolve())
    case = make_case(status="draft")
    files = {"ct.dcm": dicom_bytes(examples.ct), "mr.dcm": dicom_bytes(examples.mr)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    assert Image.objects.filter(series__case=case).count() == 2
    assert counts == {name: len(data) for name, data in files.items()}, "every byte once"
    assert not [name for name in opened if name.startswith("dicom/")], "no de-identified object is read back"
    assert "values task" in opened, "the viewer values are still prepared, afterwards"
