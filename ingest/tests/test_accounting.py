"""Every file of an import ends with one outcome and a reason, whatever a worker does (issue 13 §1)."""

import gc
import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pydicom
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections
from django.urls import reverse

from cases.models import Image, Series
from cases.tests.factories import make_case
from imaging import render
from imaging.sources import Source
from imaging.tests.corpus import accounting
from ingest import lease
from ingest.clean import ingest_stage
from ingest.frames import header_without_pixels
from ingest.models import IngestJob
from ingest.pool import bounded_map
from ingest.run import ingest_run
from ingest.tests.test_pipeline import media_files, orphans


@pytest.fixture
def case(db, faculty):
    return make_case(authors=[faculty], status="draft")


def import_study(case, *paths: Path) -> tuple[int, str]:
    """Run the command; return its exit code and what it printed."""
    out = io.StringIO()
    try:
        call_command("import_study", *map(str, paths), case=case.number, stdout=out)
    except SystemExit as exit_info:
        return exit_info.code, out.getvalue()
    return 0, out.getvalue()


def printed(out: str, outcome: str, name: str) -> str:
    """Return the line the command printed for a file, or ""."""
    return next((line for line in out.splitlines() if line.startswith(f"{outcome} {name} ")), "")


def test_palette_colour_files_import_with_two_workers(case, tmp_path, settings):
    """Both palette files crashed the import with two workers (a header the worker could not send back)."""
    settings.TEACHINGFILE_INGEST_WORKERS = 2
    accounting.make_palette_color(tmp_path)
    code, out = import_study(case, tmp_path)
    assert code == 0, out
    assert "2 files: 2 imported, 0 already imported, 0 duplicate, 0 refused, 0 not rendered." in out
    images = Image.objects.filter(series__case=case)
    assert images.count() == 2 and all(image.held_for_review for image in images), "US and SC wait for a check"
    assert {(image.width, image.height) for image in images} == {(80, 64), (48, 48)}


def test_the_header_sent_back_by_a_worker_pickles_once_its_palette_was_rendered(tmp_path):
    import pickle

    from imaging import render

    dataset = pydicom.dcmread(accounting.make_palette_color(tmp_path)[0])
    list(render.render_dataset(dataset, invert=False, thumbnails=False))
    descriptor = 0x00281101
    assert isinstance(dataset.get_item(descriptor), pydicom.DataElement), "rendering parsed the palette descriptor"
    copy = pickle.loads(pickle.dumps(header_without_pixels(dataset)))
    assert copy.Modality == "US" and copy.SOPInstanceUID == dataset.SOPInstanceUID
    assert "PixelData" not in copy and descriptor not in copy, "grouping needs neither pixels nor lookup tables"


def test_a_file_that_cannot_be_rendered_is_named_with_its_reason_and_makes_no_stage(case, tmp_path):
    accounting.make_rle_wrong_segment_length(tmp_path)
    before = media_files()
    code, out = import_study(case, tmp_path)
    assert code == 1, "not every file was imported"
    line = printed(out, "not rendered", "rle_short_segment.dcm")
    assert line == "not rendered rle_short_segment.dcm (file 2): the image data could not be decoded (RLE Lossless)"
    assert "2 files: 1 imported, 0 already imported, 0 duplicate, 0 refused, 1 not rendered." in out
    assert Series.objects.filter(case=case).count() == 1, "the broken object's series makes no empty stage"
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE
    assert job.report["files"] == [
        [1, "imported", ""],
        [2, "not rendered", "the image data could not be decoded (RLE Lossless)"],
    ]
    assert job.report["counts"] == {
        "imported": 1,
        "already imported": 0,
        "duplicate": 0,
        "refused": 0,
        "not rendered": 1,
    }
    assert "short_segment" not in str(job.report) and "good_ct" not in str(job.report), "no file name is kept"
    assert orphans(before) == set()


def test_every_outcome_is_printed_by_name_and_counted(case, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    accounting.make_duplicates(folder)
    accounting.make_rle_wrong_segment_length(folder)
    (folder / "notes.txt").write_text("not DICOM")
    code, out = import_study(case, folder)
    assert code == 1
    assert printed(out, "duplicate", "b_copy.dcm") == (
        "duplicate b_copy.dcm (file 2): the same object as file 1 (a_original.dcm)"
    )
    assert printed(out, "duplicate", "IMG0001").startswith("duplicate IMG0001 (file 3): the same object as file 1")
    assert printed(out, "refused", "notes.txt") == "refused notes.txt (file 5): not a DICOM file"
    assert printed(out, "not rendered", "rle_short_segment.dcm")
    assert not printed(out, "imported", "a_original.dcm"), "imported files are counted, not listed"
    assert "6 files: 2 imported, 0 already imported, 2 duplicate, 1 refused, 1 not rendered." in out

    code, again = import_study(case, folder / "a_original.dcm")
    assert code == 0, "a file the case has already counts as imported"
    assert printed(again, "already imported", "a_original.dcm").endswith(": the case has this object already")


def test_identical_objects_in_one_upload_become_one_image(case, tmp_path):
    """The same object three times (two files and a zip member): one image, the later copies deleted."""
    accounting.make_duplicates(tmp_path)
    before = media_files()
    code, out = import_study(case, tmp_path)
    assert code == 1, out
    assert Image.objects.filter(series__case=case).count() == 1
    job = IngestJob.objects.get(case=case)
    assert [outcome for _, outcome, _ in job.report["files"]] == ["imported", "duplicate", "duplicate"]
    assert job.processed == job.total == 3
    assert orphans(before) == set(), "the duplicates' stored copies and frames are deleted"


def test_identical_objects_in_one_web_upload_become_one_image(
    client, faculty, case, tmp_path, django_capture_on_commit_callbacks
):
    paths = accounting.make_duplicates(tmp_path)
    uploads = [SimpleUploadedFile(path.name, path.read_bytes()) for path in paths]
    client.force_login(faculty)
    before = media_files()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": uploads})
    assert '"b_copy.dcm"' in answer.content.decode(), "the answer carries its names for the final report"
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE
    assert [outcome for _, outcome, _ in job.report["files"]] == ["imported", "duplicate", "duplicate"]
    assert Image.objects.filter(series__case=case).count() == 1
    assert orphans(before) == set()
    page = client.get(reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token])).content.decode()
    assert "Files: 1 imported, 0 already imported, 2 duplicate, 0 refused, 0 not rendered." in page
    assert 'data-index="2"' in page and "File 2" in page and "the same object as file 1" in page
    assert "b_copy" not in page, "the page shown later has no names: they are not kept"


def failing_on_small_images(real):
    """A renderer that raises an unexpected error on 32-pixel-wide images and renders the rest."""

    def render_dataset(dataset, **options):
        if dataset.Columns == 32:
            raise KeyError("an unexpected bug")
        yield from real(dataset, **options)

    return render_dataset


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_makes_the_renderer_raise_costs_only_that_file(
    client, faculty, case, tmp_path, monkeypatch, settings, workers, django_capture_on_commit_callbacks
):
    settings.TEACHINGFILE_INGEST_WORKERS = workers
    monkeypatch.setattr(render, "render_dataset", failing_on_small_images(render.render_dataset))
    paths = accounting.make_palette_color(tmp_path) + accounting.make_rle_wrong_segment_length(tmp_path)
    client.force_login(faculty)
    before = media_files()
    uploads = [SimpleUploadedFile(path.name, path.read_bytes()) for path in paths]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": uploads})
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE, job.report
    assert job.report["files"] == [
        [1, "imported", ""],
        [2, "imported", ""],
        [3, "not rendered", "could not be rendered"],
        [4, "not rendered", "could not be rendered"],
    ]
    assert Image.objects.filter(series__case=case).count() == 2
    assert orphans(before) == set()


def crashing_on_small_images(real):
    """A renderer whose process dies (as on a decoder's segmentation fault) on 32-pixel-wide images."""

    def render_dataset(dataset, **options):
        if dataset.Columns == 32:
            os._exit(70)
        yield from real(dataset, **options)

    return render_dataset


def test_a_file_that_kills_its_worker_costs_only_that_file(case, tmp_path, monkeypatch, settings):
    settings.TEACHINGFILE_INGEST_WORKERS = 2
    monkeypatch.setattr(render, "render_dataset", crashing_on_small_images(render.render_dataset))
    accounting.make_palette_color(tmp_path)
    small = accounting.ct_slice("CRASH^ME")
    small.save_as(tmp_path / "zz_crash.dcm", enforce_file_format=True)
    for index in range(4):  # more files than the two workers hold in flight
        other = accounting.ct_slice(f"BESIDE^{index}", seed=index)
        other.Rows = other.Columns = 16
        other.PixelData = other.PixelData[: 16 * 16 * 2]
        other.save_as(tmp_path / f"other{index}.dcm", enforce_file_format=True)
    code, out = import_study(case, tmp_path)
    assert code == 1
    assert printed(out, "refused", "zz_crash.dcm") == (
        "refused zz_crash.dcm (file 7): the file crashed the process reading it"
    )
    assert "7 files: 6 imported, 0 already imported, 0 duplicate, 1 refused, 0 not rendered." in out
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE and job.total == 6
    assert len(os.listdir(Path(default_storage.path(f"dicom/{job.token}")))) == 6, "no object left over"


def test_a_render_task_whose_worker_dies_costs_only_that_object(case, monkeypatch):
    """The background task renders with workers too: the object that kills its worker is "not rendered"."""
    monkeypatch.setattr(render, "render_dataset", crashing_on_small_images(render.render_dataset))
    job = IngestJob.objects.create(case=case)
    datasets = [accounting.ct_slice("CRASH^ME"), *(accounting.ct_slice(f"OTHER^{n}", seed=n) for n in range(3))]
    for dataset in datasets[1:]:
        dataset.Rows = dataset.Columns = 16
        dataset.PixelData = dataset.PixelData[: 16 * 16 * 2]
    sources = [Source(f"{n}.dcm", accounting.dicom_bytes(dataset)) for n, dataset in enumerate(datasets)]
    ingest_stage(job=job, sources=enumerate(sources, start=1))
    ingest_run(job=job, workers=2)
    assert job.status == IngestJob.Status.DONE
    assert job.report["files"][0] == [1, "not rendered", "the image crashed the process rendering it"]
    assert job.report["counts"]["imported"] == 3


def unpicklable(item):
    """Return the item, or for a path a function, which pickle cannot send back."""
    return (lambda: item) if isinstance(item, str) else item


def raising(item):
    if isinstance(item, str):
        raise ValueError(item)
    return item


def discard_by_touching(result):
    Path(result()).touch()


@pytest.mark.parametrize("function", [unpicklable, raising])
def test_a_result_that_cannot_cross_back_or_an_exception_costs_only_that_item(function, tmp_path):
    marker = tmp_path / "discarded"
    items = [1, str(marker), 3, 4, 5, 6, 7]
    results = bounded_map(
        function, items, workers=2, failed=lambda item, problem: ("failed", problem), discard=discard_by_touching
    )
    assert list(results) == [1, ("failed", "raised"), 3, 4, 5, 6, 7]
    assert marker.exists() == (function is unpicklable), "what the worker stored is deleted in the worker"


@pytest.fixture
def committed(django_db_blocker):
    """The test database outside a test transaction, so other connections see each commit; cases made are deleted."""
    with django_db_blocker.unblock():
        made = []
        yield made
        for case in made:
            case.delete()


@pytest.mark.database
def test_progress_is_seen_by_another_connection_while_the_stages_are_rendered(committed, monkeypatch):
    """The polling page reads the job from its own connection: it must see ``processed`` rise, not jump to the end."""
    case = make_case(status="draft")
    committed.append(case)
    monkeypatch.setattr(lease, "PROGRESS_SECONDS", 0)  # a write per object: the test needs no clock
    job = IngestJob.objects.create(case=case)
    sources = [Source(f"{n}.dcm", accounting.dicom_bytes(accounting.ct_slice(f"SLICE^{n}", seed=n))) for n in range(5)]
    ingest_stage(job=job, sources=enumerate(sources, start=1))
    seen = []
    real = render.render_dataset

    def render_watching(dataset, **options):
        def read_from_another_connection():
            seen.append(IngestJob.objects.get(pk=job.pk).processed)
            connections.close_all()

        reader = threading.Thread(target=read_from_another_connection)
        reader.start()
        reader.join()
        yield from real(dataset, **options)

    monkeypatch.setattr(render, "render_dataset", render_watching)
    ingest_run(job=job)
    assert job.status == IngestJob.Status.DONE
    assert seen == [0, 1, 2, 3, 4], "each object's progress is committed before the next one renders"


def test_a_folder_of_links_imports_what_they_lead_to_inside_it_and_names_the_others(case, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    accounting.make_symbolic_links(folder)
    code, out = import_study(case, folder)
    assert code == 1
    assert Image.objects.filter(series__case=case).count() == 2, "each slice once, however many links lead to it"
    assert printed(out, "refused", "study/outside.dcm").endswith(": link to a file outside the folder")
    assert printed(out, "refused", "study/broken.dcm").endswith(": broken link")
    assert "4 files: 2 imported, 0 already imported, 0 duplicate, 2 refused, 0 not rendered." in out

    code, out = import_study(case, folder / "study")
    assert code == 1
    for name in ("one.dcm", "two.dcm", "outside.dcm"):
        assert printed(out, "refused", name).endswith(": link to a file outside the folder"), name
    assert printed(out, "refused", "store-link").endswith(": link to a folder outside the folder")
    assert printed(out, "refused", "broken.dcm").endswith(": broken link")


def test_an_empty_folder_is_not_a_successful_import(case, tmp_path):
    code, out = import_study(case, tmp_path)
    assert code == 1 and "No files found." in out


def test_a_zip_and_its_member_file_count_as_one_object_each_by_position(case, tmp_path):
    """Positions follow the order the sources are listed, members of a zip in their archive order."""
    ct = accounting.ct_slice("ZIP^FIRST")
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inner/one.dcm", accounting.dicom_bytes(ct))
        handle.writestr("inner/notes.txt", b"not DICOM")
    code, out = import_study(case, archive)
    assert code == 1
    assert printed(out, "refused", "inner/notes.txt") == "refused inner/notes.txt (file 2): not a DICOM file"


def exiting_on_three(item):
    if item == 3:
        os._exit(70)
    return item


def test_a_worker_that_dies_while_the_consumer_is_slow_costs_only_its_item():
    """Items submitted after the death, into the broken pool, run again rather than sinking the run."""
    results = []
    for result in bounded_map(
        exiting_on_three, range(1, 13), workers=2, failed=lambda item, problem: ("failed", problem), discard=print
    ):
        results.append(result)
        time.sleep(0.2)  # a slow consumer: the pool breaks before the next items are submitted
    assert results == [1, 2, ("failed", "crashed"), *range(4, 13)]


def collecting(item):
    return item, gc.isenabled()


def test_the_workers_collect_garbage_when_their_parent_does_not():
    """import_study run from the command line stops collecting in its own process only (its workers' memory)."""
    gc.disable()
    try:
        results = list(bounded_map(collecting, [1, 2, 3], workers=2, failed=lambda *args: None, discard=print))
    finally:
        gc.enable()
    assert results == [(1, True), (2, True), (3, True)]


def test_objects_the_caller_froze_stay_frozen_after_the_workers_end():
    """import_study freezes its start-up's objects for its whole process; the pool leaves them frozen."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert list(bounded_map(abs, [-1, -2], workers=2, failed=lambda *args: None, discard=print)) == [1, 2]
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
