"""DICOM ingest end to end: upload in the authoring screen and the import_study command."""

import copy
import io
import json
import re
import zipfile
from pathlib import Path, PurePosixPath

import PIL.Image
import pydicom
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from pydicom import examples
from pydicom.data import get_testdata_file

from cases import values
from cases.models import Image, Series
from cases.tests.factories import make_case, make_image, make_series
from imaging import render
from imaging.sources import Source
from ingest import stages
from ingest.clean import ingest_stage
from ingest.models import IngestJob
from ingest.run import ingest_run
from ingest.stages import _mark_key_image

PHI = [b"CompressedSamples", b"1CT1", b"4MR1", b"Sssssss", b"021234567"]


def dicom_bytes(dataset: pydicom.Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def ct_zip_with_problems() -> bytes:
    """A PACS-style export: one CT and one MR object, a text file and a member that climbs out of the archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("STUDY/SERIES1/IM0001", dicom_bytes(examples.ct))
        archive.writestr("STUDY/SERIES2/IM0001", dicom_bytes(examples.mr))
        archive.writestr("STUDY/notes.txt", b"Patient: CompressedSamples, call back")
        archive.writestr("../../escape.dcm", dicom_bytes(examples.ct))
    return buffer.getvalue()


def stored_bytes(names: set[str]) -> bytes:
    return b"".join((Path(settings.MEDIA_ROOT) / name).read_bytes() for name in sorted(names))


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def orphans(before: set[str]) -> set[str]:
    """Files stored since ``before`` that no image holds (values count with the DICOM they were made from)."""
    held = set()
    for names in Image.objects.values_list("file", "thumbnail", "medium", "dicom_file"):
        held |= {name for name in names if name}
    stems = {PurePosixPath(name).stem for name in held if name.startswith("dicom/")}
    return {
        name
        for name in media_files() - before
        if name not in held and not (name.startswith("values/") and PurePosixPath(name).parts[1] in stems)
    }


def upload(client, case, *datasets):
    files = [SimpleUploadedFile(f"{n}.dcm", dicom_bytes(d), "application/dicom") for n, d in enumerate(datasets)]
    return client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": files}, follow=True)


@pytest.fixture
def case(db, faculty):
    return make_case(authors=[faculty], status="draft")


def test_upload_ingests_good_files_and_reports_bad_ones_by_name(
    client, faculty, case, django_capture_on_commit_callbacks
):
    client.force_login(faculty)
    upload = SimpleUploadedFile("export.zip", ct_zip_with_problems(), "application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": [upload]}, follow=True)
    names = json.loads(re.search(r'id="import-names"[^>]*>(.*?)</script>', response.content.decode()).group(1))
    assert names == ["STUDY/SERIES1/IM0001", "STUDY/SERIES2/IM0001", "STUDY/notes.txt", "../../escape.dcm"]
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE, job.report
    refused = {names[index - 1]: reason for index, outcome, reason in job.report["files"] if outcome == "refused"}
    assert refused == {"STUDY/notes.txt": "not a DICOM file", "../../escape.dcm": "path outside the archive"}
    page = client.get(reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token])).content.decode()
    item = '<li data-index="3">File 3<span class="import-name"></span> — refused: '
    assert item + '<span class="import-reason">not a DICOM file</span></li>' in page
    series = list(case.series.order_by("order"))
    assert [item.modality for item in series] == ["CT", "MR"] or [item.modality for item in series] == ["MR", "CT"]
    assert all(not item.label_confirmed for item in series), "imported labels wait for the author"
    assert Image.objects.filter(series__case=case).count() == 2
    assert "escape" not in str(job.report) and "notes" not in str(job.report), "file names are not kept"
    for image in Image.objects.filter(series__case=case):
        stem = PurePosixPath(image.dicom_file.name).stem
        assert default_storage.exists(f"values/{stem}/{image.frame_number}.bin"), (
            "values are prepared before the first reader"
        )


def test_nothing_identifying_is_stored_after_ingest(client, faculty, case, django_capture_on_commit_callbacks):
    before = media_files()
    client.force_login(faculty)
    uploads = [
        SimpleUploadedFile(f"{name}.dcm", dicom_bytes(getattr(examples, name)), "application/dicom")
        for name in ("ct", "mr", "overlay")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": uploads})
    assert Image.objects.filter(series__case=case).count() == 3
    # What this import stored: other tests' fixtures (make_dicom_image) store pydicom's raw test file.
    everything = stored_bytes(media_files() - before)
    for secret in PHI:
        assert secret not in everything, secret
    assert media_files() - before, "the import stored its files"
    assert orphans(before) == set(), "every stored object ended up in an image"
    for image in Image.objects.filter(series__case=case):
        stored = pydicom.dcmread(image.dicom_file.open())
        assert stored.PatientIdentityRemoved == "YES"
        assert not any(element.tag.is_private for element in stored.iterall())


def test_progress_page_reports_json_for_polling(client, faculty, case, django_capture_on_commit_callbacks):
    client.force_login(faculty)
    upload = SimpleUploadedFile("ct.dcm", dicom_bytes(examples.ct), "application/dicom")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": [upload]})
    job = IngestJob.objects.get(case=case)
    url = reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token])
    status = client.get(url, HTTP_ACCEPT="application/json").json()
    assert status == {
        "status": "done",
        "phase": "render",
        "phase_label": "Rendering",
        "processed": 1,
        "total": 1,
        "percent": 100,
        "files": [[1, "imported", ""]],
        "error": "",
    }
    page = client.get(url).content.decode()
    assert "Import done" in page and "1 CT image became stage " in page and "(s)" not in page


def test_another_faculty_cannot_import_into_the_case(client, other_faculty, case):
    client.force_login(other_faculty)
    upload = SimpleUploadedFile("ct.dcm", dicom_bytes(examples.ct), "application/dicom")
    response = client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": [upload]})
    assert response.status_code == 403
    assert not IngestJob.objects.filter(case=case).exists()


def test_reimporting_skips_known_objects_and_new_ones_wait_for_the_author(case, tmp_path):
    first, second = copy.deepcopy(examples.ct), copy.deepcopy(examples.ct)
    second.SOPInstanceUID = first.SOPInstanceUID + ".2"
    (tmp_path / "a.dcm").write_bytes(dicom_bytes(first))
    call_command("import_study", str(tmp_path / "a.dcm"), case=case.number, stdout=io.StringIO())
    Series.objects.filter(case=case).update(label_confirmed=True)
    (tmp_path / "b.dcm").write_bytes(dicom_bytes(second))
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    series = Series.objects.get(case=case)
    assert series.images.count() == 2, "the object imported before is not duplicated"
    assert not series.label_confirmed, "new images in a stage wait for the author's check"


def test_frames_are_rendered_before_the_transaction_that_saves_the_stage(case, monkeypatch):
    """The import holds the write lock only to save its rows, never while it decodes and renders pixels."""
    depths = []
    render_dataset = render.render_dataset

    def recording_render(*args, **kwargs):
        depths.append(len(connection.atomic_blocks))
        yield from render_dataset(*args, **kwargs)

    monkeypatch.setattr(render, "render_dataset", recording_render)
    outside = len(connection.atomic_blocks)
    job = IngestJob.objects.create(case=case)
    ingest_stage(job=job, sources=[(1, Source(name="ct.dcm", data=dicom_bytes(examples.ct)))])
    ingest_run(job=job)
    assert job.status == IngestJob.Status.DONE, job.report
    assert depths == [outside]
    assert Image.objects.filter(series__case=case).count() == 1


def test_a_damaged_archive_member_is_refused_without_logging_its_name(case, tmp_path, caplog):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("good.dcm", dicom_bytes(examples.ct))
        archive.writestr("DOE^JOHN_MRN0012345/IM1.dcm", dicom_bytes(examples.mr))
    data = bytearray(buffer.getvalue())
    member = data.find(b"DOE^JOHN_MRN0012345/IM1.dcm") + len("DOE^JOHN_MRN0012345/IM1.dcm") + 40
    data[member] ^= 0xFF  # corrupt the deflated stream of the second member
    (tmp_path / "export.zip").write_bytes(bytes(data))
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_study", str(tmp_path / "export.zip"), case=case.number, stdout=out)
    assert "damaged file in the archive" in out.getvalue()
    assert Image.objects.filter(series__case=case).count() == 1, "the good member is imported"
    assert "DOE" not in caplog.text


def test_command_exit_codes(case, tmp_path):
    good = tmp_path / "study"
    good.mkdir()
    (good / "a.dcm").write_bytes(dicom_bytes(examples.ct))
    out = io.StringIO()
    call_command("import_study", str(good), case=case.number, stdout=out)
    assert "1 file: 1 imported, 0 already imported, 0 duplicate, 0 refused, 0 not rendered." in out.getvalue()
    assert "de-identification (attributes per action): " in out.getvalue()

    (good / "readme.txt").write_text("not dicom")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_study", str(good), case=case.number, stdout=io.StringIO())
    assert exit_info.value.code == 1

    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as usage:
        call_command("import_study", str(good), case="nope")
    assert usage.value.returncode == 2
    with pytest.raises(CommandError) as no_path:
        call_command("import_study", case=case.number)
    assert no_path.value.returncode == 2


def test_multiframe_cine_becomes_frames_of_one_stage(case):
    source = get_testdata_file("examples_ybr_color.dcm", download=False)
    assert int(pydicom.dcmread(source).NumberOfFrames) == 30
    call_command("import_study", source, case=case.number, stdout=io.StringIO())
    series = Series.objects.get(case=case)
    assert series.modality == "US"
    assert series.images.count() == 30
    assert len({image.dicom_file.name for image in series.images.all()}) == 1, "frames share one DICOM object"


def test_burned_in_candidates_are_held_from_residents(client, resident, faculty, db, tmp_path):
    published = make_case(authors=[faculty], status="published")
    path = tmp_path / "us.dcm"
    path.write_bytes(dicom_bytes(examples.rgb_color))  # ultrasound without Burned In Annotation
    call_command("import_study", str(path), case=published.number, stdout=io.StringIO())
    image = Image.objects.get(series__case=published)
    assert image.held_for_review
    client.force_login(resident)
    assert image.file.name not in client.get(published.get_absolute_url()).content.decode()
    assert client.get(reverse("cases:media-file", args=[image.file.name])).status_code == 404


def bad_inputs_zip() -> bytes:
    """One archive with every kind of bad input beside one good CT object."""
    import PIL.Image

    good = dicom_bytes(examples.ct)
    truncated = good[:-5000]
    huge = copy.deepcopy(examples.ct)
    huge.Rows = huge.Columns = 60000
    bomb = io.BytesIO()
    PIL.Image.new("1", (20000, 20000)).save(bomb, format="PNG")
    report = get_testdata_file("test-SR.dcm", download=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("good.dcm", good)
        archive.writestr("empty.dcm", b"")
        archive.writestr("random.bin", bytes(range(256)) * 40)
        archive.writestr("truncated.dcm", truncated)
        archive.writestr("huge.dcm", dicom_bytes(huge))
        archive.writestr("bomb.png", bomb.getvalue())
        archive.writestr("../climb.dcm", good)
        archive.writestr("/etc/absolute.dcm", good)
        archive.writestr("report.dcm", Path(report).read_bytes())
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED) as zeros:
            zeros.writestr("zeros.dcm", bytes(1024**3))  # 1 GiB of zeros, about 1 MB compressed
        archive.writestr("zipbomb.zip", inner.getvalue())
    return buffer.getvalue()


def test_each_bad_input_gets_its_reason_and_the_good_file_is_ingested(case, tmp_path):
    archive = tmp_path / "upload.zip"
    archive.write_bytes(bad_inputs_zip())
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_study", str(archive), case=case.number, stdout=out)
    assert exit_info.value.code == 1
    report = out.getvalue()
    expected = {
        "empty.dcm": "empty file",
        "random.bin": "not a DICOM file",
        "truncated.dcm": "truncated pixel data",
        "huge.dcm": "image too large",
        "bomb.png": "not a DICOM file",
        "climb.dcm": "path outside the archive",
        "absolute.dcm": "path outside the archive",
        "report.dcm": "no pixel data",
        "zipbomb.zip": "too large",
    }
    for name, reason in expected.items():
        line = next((line for line in report.splitlines() if line.startswith("refused") and name in line), "")
        assert reason in line, f"{name}: {line or 'not reported'}"
    assert Image.objects.filter(series__case=case).count() == 1
    assert "10 files: 1 imported, 0 already imported, 0 duplicate, 9 refused, 0 not rendered." in report


def test_parallel_workers_give_the_same_stages_in_spatial_order(case, tmp_path, settings):
    from demo import synthetic

    settings.TEACHINGFILE_INGEST_WORKERS = 2
    folder = tmp_path / "ct"
    folder.mkdir()
    datasets = synthetic.ct_pelvis(patient=synthetic.Patient(), slices=12, size=128, seed=3)
    for name, content in synthetic.planted_study_files(list(reversed(datasets))).items():
        (folder / name.replace("^", "_")).write_bytes(content)
    call_command("import_study", str(folder), case=case.number, stdout=io.StringIO())
    series = Series.objects.get(case=case)
    positions = list(series.images.order_by("order").values_list("slice_position_mm", flat=True))
    assert len(positions) == 12
    assert positions == sorted(positions), "slices are ordered along the normal whatever the file order"
    key = series.images.get(is_key=True)
    assert list(series.images.order_by("order")).index(key) == 6, "the middle slice is the stage's key image"


def test_a_stack_gets_one_thumbnail_for_its_key_image(client, resident, case, tmp_path):
    from demo import synthetic

    folder = tmp_path / "ct"
    folder.mkdir()
    datasets = synthetic.ct_pelvis(patient=synthetic.Patient(), slices=6, size=128, seed=3)
    for name, content in synthetic.planted_study_files(datasets).items():
        (folder / name.replace("^", "_")).write_bytes(content)
    call_command("import_study", str(folder), case=case.number, stdout=io.StringIO())
    series = Series.objects.get(case=case)
    series.label_confirmed = True
    series.save()
    case.status = "published"
    case.save()

    thumbnails = {image.is_key: image.thumbnail.name for image in series.images.all() if image.thumbnail}
    assert list(thumbnails) == [True], "only the key image has a thumbnail"
    with default_storage.open(thumbnails[True]) as handle:
        thumbnail = PIL.Image.open(handle)
        assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("JPEG", "L", (128, 128))
    client.force_login(resident)
    assert thumbnails[True] in client.get(reverse("cases:case-list")).content.decode(), "the case card shows it"

    other = series.images.get(order=1)
    Image.objects.filter(series=series).update(is_key=False)
    Image.objects.filter(pk=other.pk).update(is_key=True)
    page = client.get(reverse("cases:case-detail", args=[case.number])).content.decode()
    assert f'<img src="{reverse("cases:media-file", args=[other.file.name])}"' in page, "no thumbnail: the image"


def test_two_imports_that_thumbnail_one_key_image_at_once_keep_one_thumbnail_and_leave_no_orphan(
    case, monkeypatch, caplog
):
    """Two imports extending one stage both find its key image without a thumbnail: the second to save keeps its
    file out of the image rather than overwriting the first's name, which the first's clean-up could not see."""
    series = make_series(case=case)
    key = make_image(series=series)
    Image.objects.filter(pk=key.pk).update(thumbnail="", is_key=True)
    first, second = IngestJob.objects.create(case=case), IngestJob.objects.create(case=case)
    before = media_files()
    name_frame, raced = stages.frame_name, []

    def second_saves_meanwhile(folder, suffix):  # the first has read the key image, not yet named its thumbnail
        if folder.endswith(first.token.hex) and not raced:
            raced.append(stages._thumbnail_key_images(second, series))
        return name_frame(folder, suffix)

    monkeypatch.setattr(stages, "frame_name", second_saves_meanwhile)
    assert stages._thumbnail_key_images(first, series) == []
    [[kept]] = raced
    key.refresh_from_db()
    assert key.thumbnail.name == kept and kept.startswith(f"images/{second.token.hex}/")
    assert orphans(before) == set(), "the first's thumbnail deleted, not left in its job's folder"
    assert "another import named image" in caplog.text


def test_masking_burned_in_text_blacks_out_every_stored_form(case, tmp_path, django_capture_on_commit_callbacks):
    import numpy
    import PIL.Image

    from cases import masking

    path = tmp_path / "us.dcm"
    path.write_bytes(dicom_bytes(examples.rgb_color))
    call_command("import_study", str(path), case=case.number, stdout=io.StringIO())
    image = Image.objects.get(series__case=case)
    assert image.held_for_review
    with django_capture_on_commit_callbacks(execute=True):
        masking.image_apply_masks(image=image, rectangles=[[0, 0, 100, 40]])
    image.refresh_from_db()
    assert not image.held_for_review and image.masks == [[0, 0, 100, 40]]
    web = numpy.asarray(PIL.Image.open(image.file.open()).convert("L"))
    assert web[:40, :100].max() == 0 and web[40:, 100:].max() > 0
    stored = pydicom.dcmread(image.dicom_file.open())
    assert stored.BurnedInAnnotation == "NO"
    assert stored.pixel_array[:40, :100].max() == stored.pixel_array.min()


def test_demo_studies_keep_none_of_their_planted_identifiers(db):
    from demo import synthetic

    demo_files = Image.objects.filter(series__case__number__in=["tf101", "tf102", "tf103"]).exclude(dicom_file="")
    assert demo_files.exists(), "the demo imaging went through the DICOM pipeline"
    stored = b"".join({image.dicom_file.name: image.dicom_file.open().read() for image in demo_files}.values())
    for value in synthetic.PLANTED.values():
        assert value.encode() not in stored, value


def test_sweep_closes_imports_no_worker_took_up_and_deletes_their_unused_objects(case):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    stale = IngestJob.objects.create(case=case, total=1)
    IngestJob.objects.filter(pk=stale.pk).update(created=timezone.now() - timedelta(minutes=31))
    fresh = IngestJob.objects.create(case=case, total=1)
    left = default_storage.save(f"dicom/{stale.token}/1.dcm", ContentFile(b"de-identified"))
    kept = default_storage.save(f"dicom/{fresh.token}/1.dcm", ContentFile(b"de-identified"))
    out = io.StringIO()
    call_command("ingest_sweep", "--minutes", "30", stdout=out)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == IngestJob.Status.FAILED and fresh.status == IngestJob.Status.QUEUED
    assert not default_storage.exists(left) and default_storage.exists(kept)
    assert "1 stale import closed or queued again." in out.getvalue()


ROOT = "1.2.826.0.1.3680043.10.4242"


def ct_study(day: str, number: int, *, series_day: str | None = None) -> pydicom.Dataset:
    """pydicom's CT slice as a study of its own on ``day`` (YYYYMMDD); its series maybe made on ``series_day``."""
    dataset = copy.deepcopy(examples.ct)
    dataset.StudyDate = day
    dataset.SeriesDate = dataset.AcquisitionDate = dataset.ContentDate = series_day or day
    dataset.StudyInstanceUID = f"{ROOT}.1.{number}"
    dataset.SeriesInstanceUID = f"{ROOT}.2.{number}"
    dataset.SOPInstanceUID = f"{ROOT}.3.{number}"
    return dataset


def import_batch(case, folder: Path, *datasets: pydicom.Dataset) -> None:
    """Import the studies as one upload batch, as an author uploading one export would."""
    folder.mkdir()
    for index, dataset in enumerate(datasets):
        (folder / f"{index}.dcm").write_bytes(dicom_bytes(dataset))
    call_command("import_study", str(folder), case=case.number, stdout=io.StringIO())


def study_days(case) -> list[int | None]:
    return list(Series.objects.filter(case=case).order_by("pk").values_list("study_day", flat=True))


def test_days_count_from_the_cases_first_study_across_batches_and_reimports(case, tmp_path):
    import_batch(case, tmp_path / "first", ct_study("20200301", 1))
    import_batch(case, tmp_path / "a-year-later", ct_study("20210301", 2))
    assert study_days(case) == [0, 365], "the second batch counts from the case's first study, not its own"
    import_batch(case, tmp_path / "again", ct_study("20200301", 1), ct_study("20210301", 2))
    assert study_days(case) == [0, 365], "re-importing both studies keeps their days"


def test_an_earlier_study_arriving_later_moves_every_day_alike(case, tmp_path):
    import_batch(case, tmp_path / "first", ct_study("20200301", 1), ct_study("20210301", 2))
    import_batch(case, tmp_path / "prior", ct_study("20200131", 3))
    assert study_days(case) == [30, 395, 0]


def test_a_series_made_later_in_a_study_keeps_the_studys_day(case, tmp_path):
    import_batch(case, tmp_path / "one", ct_study("20200301", 1), ct_study("20200301", 2, series_day="20241102"))
    assert study_days(case) == [0, 0]


def test_an_authors_correction_of_a_day_persists_through_reimports(client, faculty, case, tmp_path):
    from cases.tests.test_admin import series_form_data

    import_batch(case, tmp_path / "first", ct_study("20200301", 1), ct_study("20210301", 2))
    later = Series.objects.filter(case=case).order_by("pk").last()
    client.force_login(faculty)
    url = reverse("admin:cases_series_change", args=[later.pk])
    refused = client.post(url, series_form_data(case, modality="CT", study_day="99999"))
    assert refused.status_code == 200 and "less than or equal to 36500" in refused.content.decode()
    assert client.post(url, series_form_data(case, modality="CT", study_day="360")).status_code == 302
    assert study_days(case) == [0, 360]
    import_batch(case, tmp_path / "again", ct_study("20210301", 2))
    import_batch(case, tmp_path / "prior", ct_study("20200220", 3))
    assert study_days(case) == [10, 370, 0], "the correction stays, moved with the others when day 0 moves"


def test_the_migration_recounts_imported_days_from_the_cases_first_study(case, tmp_path):
    import importlib

    from django.apps import apps

    from cases.models import Case

    import_batch(case, tmp_path / "first", ct_study("20200301", 1))
    import_batch(case, tmp_path / "second", ct_study("20210301", 2))
    Series.objects.filter(case=case).update(study_day=0)  # as batches were counted before
    Case.objects.filter(pk=case.pk).update(study_day_zero=None)
    migration = importlib.import_module("cases.migrations.0010_study_days_from_stored_studies")
    migration.count_from_the_first_study(apps, None)
    assert study_days(case) == [0, 365]


@pytest.fixture
def mr_stage_fails(monkeypatch):
    """The MR stage fails after its images were rendered (the CT stage before it is made)."""
    real = _mark_key_image

    def fail_on_mr(series):
        if series.modality == "MR":
            raise RuntimeError("disk full")
        real(series)

    monkeypatch.setattr(stages, "_mark_key_image", fail_on_mr)


@pytest.mark.usefixtures("mr_stage_fails")
def test_a_stage_that_fails_midway_is_rolled_back_and_leaves_no_files(
    client, faculty, case, django_capture_on_commit_callbacks
):
    """The CT stage is made; the MR stage fails after its images were rendered: no MR stage, no orphan file."""
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, case, examples.ct, examples.mr)
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.FAILED
    assert job.report["error"] == "The import stopped (RuntimeError); the log has the details."
    assert "disk full" not in str(job.report), "the exception's text stays in the log"
    assert [series.modality for series in case.series.all()] == ["CT"], "no half-made stage"
    assert Image.objects.filter(series__case=case).count() == 1
    assert orphans(before) == set()
    assert response.status_code == 200


def test_an_object_that_fails_while_rendering_is_refused_and_its_frames_deleted(
    client, faculty, case, monkeypatch, django_capture_on_commit_callbacks
):
    real = render.render_dataset

    def fail_after_one_frame(dataset, **options):
        yield next(iter(real(dataset, **options)))
        raise MemoryError

    monkeypatch.setattr(render, "render_dataset", fail_after_one_frame)
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, case, examples.ct)
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE
    assert job.report["files"] == [[1, "not rendered", "could not be rendered"]]
    assert not Image.objects.filter(series__case=case).exists()
    assert not case.series.exists(), "no empty stage"
    assert orphans(before) == set(), "the frame written before the failure is deleted with the object"


def test_the_command_rolls_back_a_failed_stage_and_deletes_what_it_rendered(case, tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "_mark_key_image", lambda series: (_ for _ in ()).throw(OSError("full")))
    (tmp_path / "a.dcm").write_bytes(dicom_bytes(examples.ct))
    before = media_files()
    with pytest.raises(CommandError, match=r"The import stopped \(OSError\)"):
        call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    assert IngestJob.objects.get(case=case).status == IngestJob.Status.FAILED
    assert not case.series.exists() and not Image.objects.filter(series__case=case).exists()
    assert orphans(before) == set()


def test_importing_a_study_again_skips_it_and_deletes_what_the_second_run_rendered(case, tmp_path):
    (tmp_path / "a.dcm").write_bytes(dicom_bytes(examples.ct))
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    before = media_files()
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    assert Image.objects.filter(series__case=case).count() == 1
    assert orphans(before) == set()


def test_a_placeholder_study_date_a_century_away_imports_without_a_day(case, tmp_path):
    """Archives write 19000101 where a date is unknown: the stage is imported, its day left for the author."""
    import_batch(case, tmp_path / "first", ct_study("20200301", 1))
    import_batch(case, tmp_path / "placeholder", ct_study("19000101", 2), ct_study("20200401", 3))
    assert Image.objects.filter(series__case=case).count() == 3, "every stage of the batch is imported"
    assert study_days(case) == [0, None, 31], "the real studies keep counting from the case's first"


def test_a_thumbnail_that_cannot_be_made_leaves_the_saved_stage_and_the_import_done(
    case, tmp_path, monkeypatch, caplog
):
    """The thumbnail is made after the stage's transaction: failing then must not call a saved stage a failure."""
    monkeypatch.setattr(stages, "_thumbnail_key_images", lambda series, folder: (_ for _ in ()).throw(OSError("full")))
    import_batch(case, tmp_path / "one", ct_study("20200301", 1), ct_study("20200401", 2))
    assert IngestJob.objects.get(case=case).status == IngestJob.Status.DONE
    assert Image.objects.filter(series__case=case).count() == 2, "the next stage of the batch is imported too"
    assert "made no thumbnail for stage" in caplog.text


def _values_prepared(image: Image) -> bool:
    return default_storage.exists(f"values/{PurePosixPath(image.dicom_file.name).stem}/{image.frame_number}.bin")


@pytest.mark.usefixtures("mr_stage_fails")
def test_stages_saved_before_an_import_failed_get_their_viewer_values(
    client, faculty, case, django_capture_on_commit_callbacks
):
    """A GET never computes values: a stage an import saved before it failed must have them prepared too."""
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, case, examples.ct, examples.mr)
    assert IngestJob.objects.get(case=case).status == IngestJob.Status.FAILED
    (kept,) = Image.objects.filter(series__case=case)
    assert _values_prepared(kept)


def test_importing_again_after_a_failure_prepares_the_values_of_the_stages_already_imported(case, tmp_path):
    """The failed import's message says to import the files again: the stages it had saved get their values then."""
    (tmp_path / "a.dcm").write_bytes(dicom_bytes(examples.ct))
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    (image,) = Image.objects.filter(series__case=case)
    values.dicom_values_delete([image.dicom_file.name])  # as if the import had failed before its values task
    assert not _values_prepared(image)
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    assert _values_prepared(image)


@pytest.mark.parametrize("large", [False, True], ids=["from memory", "through a temporary file"])
def test_a_de_identified_object_is_stored_whole_whichever_way_it_is_written(case, tmp_path, monkeypatch, large):
    """A slice is written into memory and saved; an object larger than the bound goes through a temporary file
    the storage moves into place. Either way the stored object is the whole de-identified file."""
    if large:
        monkeypatch.setattr("ingest.clean.IN_MEMORY_PIXEL_BYTES", 0)
    (tmp_path / "ct.dcm").write_bytes(dicom_bytes(examples.ct))
    call_command("import_study", str(tmp_path), case=case.number, stdout=io.StringIO())
    image = Image.objects.get(series__case=case)
    with image.dicom_file.open("rb") as handle:
        stored = pydicom.dcmread(handle)
    assert stored.SOPInstanceUID == image.instance_uid
    assert stored.PixelData == examples.ct.PixelData
    assert stored.PatientIdentityRemoved == "YES"
