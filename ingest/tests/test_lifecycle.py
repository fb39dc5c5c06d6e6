"""Import jobs that always end (issue 13 §1–2): the spooled upload, the heartbeat, the lease check, the sweep."""

import io
import json
import os
import re
import stat
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pydicom import examples

from cases.models import Image
from cases.tests.factories import make_case
from imaging.sources import Rejected, Source
from ingest import clean, lease, stages
from ingest.clean import _clean, ingest_stage
from ingest.lease import Heartbeat, ingest_heartbeat
from ingest.models import IngestJob
from ingest.outcomes import STOPPED
from ingest.run import ingest_run, ingest_spooled
from ingest.stages import _render, _save_stage
from ingest.tests.test_pipeline import dicom_bytes, media_files, orphans
from ingest.watch import ingest_lease_check, ingest_sweep


@pytest.fixture
def case(db, faculty):
    return make_case(authors=[faculty], status="draft")


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def post_upload(client, case, *files: SimpleUploadedFile):
    return client.post(reverse("admin:cases_case_dicom", args=[case.pk]), {"files": list(files)})


def names_on(response) -> list[str]:
    """The index → name list the answer page keeps for its script."""
    return json.loads(re.search(r'id="import-names"[^>]*>(.*?)</script>', response.content.decode()).group(1))


def spool_of(job: IngestJob) -> Path:
    return Path(settings.TEACHINGFILE_UPLOAD_SPOOL) / job.token.hex


def study_upload() -> list[SimpleUploadedFile]:
    """A zip with two good objects, a text file and a nested zip (a good object and junk); a plain MR file."""
    inner = zipped({"b.dcm": dicom_bytes(examples.mr), "c.txt": b"Patient: SMITH^JOHN"})
    export = zipped({"a.dcm": dicom_bytes(examples.ct), "inner.zip": inner, "notes.txt": b"call back"})
    return [
        SimpleUploadedFile("DOE^JANE.zip", export, "application/zip"),
        SimpleUploadedFile("rgb.dcm", dicom_bytes(examples.rgb_color), "application/dicom"),
    ]


def dead(job: IngestJob, *, phase: str, task: bool, attempts: int = 0) -> None:
    """Make the job look like one whose process was killed a while ago, its task row left running."""
    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestJob.Status.RUNNING, phase=phase, attempts=attempts, heartbeat=timezone.now() - timedelta(hours=1)
    )
    if task:
        DBTaskResult.objects.create(
            task_path="ingest.tasks.ingest_job",
            args_kwargs={"args": [], "kwargs": {"token": str(job.token)}},
            status="RUNNING",
            backend_name="default",
            run_after=timezone.now(),
        )


def left_behind(job: IngestJob, *, stored: bool = True) -> list[str]:
    """Write what a killed worker leaves: a rendered image (and a de-identified object) that are in no image."""
    names = [default_storage.save(f"images/{job.token.hex}/{'a' * 32}.png", ContentFile(b"rendered"))]
    if stored:
        names.append(default_storage.save(f"dicom/{job.token}/1-{'b' * 32}.dcm", ContentFile(b"de-identified")))
    return names


def test_the_request_only_spools_the_upload_privately_and_lists_its_files(
    client, faculty, case, django_capture_on_commit_callbacks
):
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks() as queued:
        response = post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    assert names_on(response) == ["a.dcm", "inner.zip", "notes.txt", "rgb.dcm"]
    assert "DOE^JANE" not in response.content.decode(), "an archive is listed by its members"
    assert job.status == IngestJob.Status.QUEUED and job.phase == IngestJob.Phase.DEIDENTIFY
    assert (job.total, job.report) == (4, {"candidates": 4}), "a count, no name"
    assert media_files() == before, "nothing is de-identified (or stored in the media) in the request"
    spool = spool_of(job)
    assert not spool.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert sorted(path.name for path in spool.iterdir()) == ["1", "2"], "numbered, not named"
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in spool.iterdir()} == {0o600}
    assert len(queued) == 1

    queued[0]()  # the worker runs the task
    job.refresh_from_db()
    assert job.status == IngestJob.Status.DONE, job.report
    assert not spool.exists(), "the raw upload is deleted once it is de-identified"
    refused = {index: reason for index, outcome, reason in job.report["files"] if outcome == "refused"}
    assert refused == {2: "not a DICOM file", 3: "not a DICOM file"}, "c.txt inside inner.zip keeps inner.zip's index"
    assert Image.objects.filter(series__case=case).count() == 3
    assert orphans(before) == set()
    files = Image.objects.filter(series__case=case).values_list("file", flat=True)
    assert all(name.startswith(f"images/{job.token.hex}/") for name in files), "in the job's own folder"


def test_the_page_shows_the_report_by_index_and_polling_returns_it_when_done(
    client, faculty, case, django_capture_on_commit_callbacks
):
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    url = reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token])
    state = client.get(url, HTTP_ACCEPT="application/json").json()
    assert state["status"] == "done" and [2, "refused", "not a DICOM file"] in state["files"]
    page = client.get(url).content.decode()
    item = '<li data-index="3">File 3<span class="import-name"></span> — refused: '
    assert item + '<span class="import-reason">not a DICOM file</span></li>' in page
    assert "import-names" not in page, "a reload knows the files by number only"


def test_a_worker_that_died_while_de_identifying_is_replaced_by_a_second_run_that_imports_everything(
    client, faculty, case, django_capture_on_commit_callbacks
):
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks():  # the first run is the one that dies
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    dead(job, phase=IngestJob.Phase.DEIDENTIFY, task=True)
    leftovers = left_behind(job)
    with django_capture_on_commit_callbacks(execute=True):
        handled = ingest_lease_check()
    assert [item.pk for item in handled] == [job.pk]
    job.refresh_from_db()
    assert job.status == IngestJob.Status.DONE and job.attempts == 1, job.report
    assert not any(default_storage.exists(name) for name in leftovers)
    killed = DBTaskResult.objects.get(status="FAILED")
    assert killed.exception_class_path == "ingest.lease.WorkerLost" and killed.finished_at is not None
    assert Image.objects.filter(series__case=case).count() == 3
    assert orphans(before) == set() and not spool_of(job).exists()


def test_a_worker_that_died_while_rendering_is_replaced_by_a_run_that_renders_the_stored_objects(
    case, django_capture_on_commit_callbacks
):
    before = media_files()
    job = IngestJob.objects.create(case=case)
    sources = [(1, Source("ct.dcm", dicom_bytes(examples.ct))), (2, Rejected("x", "empty"))]
    ingest_stage(job=job, sources=sources)
    dead(job, phase=IngestJob.Phase.RENDER, task=True)
    [leftover] = left_behind(job, stored=False)
    with django_capture_on_commit_callbacks(execute=True):  # the test backend runs the queued task at once
        ingest_lease_check()
    job.refresh_from_db()
    assert job.status == IngestJob.Status.DONE, job.report
    assert [2, "refused", "empty"] in job.report["files"], "the first run's report of the de-identification stays"
    assert not default_storage.exists(leftover)
    assert Image.objects.filter(series__case=case).count() == 1
    assert orphans(before) == set()


def test_a_job_whose_second_worker_died_too_is_closed_with_a_report_of_every_file(
    client, faculty, case, django_capture_on_commit_callbacks
):
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks():
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    dead(job, phase=IngestJob.Phase.DEIDENTIFY, task=True, attempts=1)
    leftovers = left_behind(job)
    ingest_lease_check()
    job.refresh_from_db()
    assert job.status == IngestJob.Status.FAILED and job.cleaned and job.finished
    assert [outcome for _, outcome, _ in job.report["files"]] == ["refused"] * 4
    assert [index for index, _, _ in job.report["files"]] == [1, 2, 3, 4]
    assert job.report["files"][0][2] == STOPPED
    assert "Import the files again" in job.report["error"]
    assert not any(default_storage.exists(name) for name in leftovers)
    assert not spool_of(job).exists(), "the raw upload does not wait for a run that will not come"
    assert DBTaskResult.objects.get().status == "FAILED"
    assert orphans(before) == set()


def test_a_killed_command_is_closed_not_retried_and_what_it_imported_stays(case, tmp_path):
    before = media_files()
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "ct.dcm").write_bytes(dicom_bytes(examples.ct))
    call_command("import_study", str(folder), "--case", case.number, stdout=io.StringIO())
    imported = set(Image.objects.values_list("file", flat=True))
    job = IngestJob.objects.create(case=case)  # a second command, killed while it de-identified its 3 files
    stored = default_storage.save(f"dicom/{job.token}/2-{'c' * 32}.dcm", ContentFile(b"de-identified"))
    dead(job, phase=IngestJob.Phase.DEIDENTIFY, task=False)
    ingest_lease_check()
    job.refresh_from_db()
    assert job.status == IngestJob.Status.FAILED, "no task row: the command's inputs are the author's to give again"
    assert [index for index, _, _ in job.report["files"]] == [1, 2]
    assert not default_storage.exists(stored)
    assert set(Image.objects.values_list("file", flat=True)) == imported
    assert orphans(before) == set()


def test_a_task_whose_de_identification_raises_is_closed_at_once_with_nothing_left(
    client, faculty, case, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(case):
        raise MemoryError

    monkeypatch.setattr(clean, "case_keys", broken)
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.FAILED and job.cleaned
    assert job.report["error"].startswith("The import stopped (MemoryError)")
    assert [index for index, _, _ in job.report["files"]] == [1, 2, 3, 4]
    assert not spool_of(job).exists() and orphans(before) == set()


def test_the_progress_page_sees_a_dead_worker_without_waiting_for_the_sweep(client, faculty, case):
    client.force_login(faculty)
    job = IngestJob.objects.create(case=case, report={"candidates": 2})
    dead(job, phase=IngestJob.Phase.DEIDENTIFY, task=False)
    url = reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token])
    state = client.get(url, HTTP_ACCEPT="application/json").json()
    assert state["status"] == "failed"
    assert state["files"] == [[1, "refused", STOPPED], [2, "refused", STOPPED]]


def test_a_live_job_is_left_alone(case):
    job = IngestJob.objects.create(case=case, status=IngestJob.Status.RUNNING, heartbeat=timezone.now())
    assert ingest_lease_check() == []
    job.refresh_from_db()
    assert job.status == IngestJob.Status.RUNNING


def test_a_run_that_lost_its_lease_leaves_the_job_to_the_check_that_took_it_over(case):
    job = IngestJob.objects.create(case=case)
    ingest_stage(job=job, sources=[(1, Source("ct.dcm", dicom_bytes(examples.ct)))])
    lease = Heartbeat(job)
    lease.lost.set()
    IngestJob.objects.filter(pk=job.pk).update(status=IngestJob.Status.FAILED, attempts=1)
    ingest_run(job=job, lease=lease)
    assert IngestJob.objects.get(pk=job.pk).status == IngestJob.Status.FAILED


def test_the_sweep_deletes_what_ended_jobs_left_and_spooled_uploads_no_live_job_owns(case):
    ended = IngestJob.objects.create(case=case, status=IngestJob.Status.FAILED)
    leftovers = left_behind(ended)
    queued = IngestJob.objects.create(case=case)
    owned = spool_of(queued)
    unowned = Path(settings.TEACHINGFILE_UPLOAD_SPOOL) / ("f" * 32)  # a request that failed after spooling
    for folder in (owned, unowned):
        folder.mkdir(parents=True)
        (folder / "1").write_bytes(b"raw upload")
        os.utime(folder, (time.time() - 3600, time.time() - 3600))
    call_command("ingest_sweep", "--minutes", "30", stdout=io.StringIO())
    assert not any(default_storage.exists(name) for name in leftovers)
    assert IngestJob.objects.get(pk=ended.pk).cleaned
    assert owned.exists() and not unowned.exists()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_from_its_own_connection_and_stops_when_the_job_is_taken_over(settings, faculty):
    settings.TEACHINGFILE_INGEST_LEASE_SECONDS = 0.6
    job = IngestJob.objects.create(case=make_case(authors=[faculty], status="draft"))
    with ingest_heartbeat(job=job) as lease:
        first = IngestJob.objects.get(pk=job.pk).heartbeat
        assert IngestJob.objects.get(pk=job.pk).status == IngestJob.Status.RUNNING
        assert wait_until(lambda: IngestJob.objects.get(pk=job.pk).heartbeat > first), "the thread beats"
        IngestJob.objects.filter(pk=job.pk).update(attempts=1)  # a lease check took the job over
        assert wait_until(lease.lost.is_set)


def wait_until(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_sweep_runs_a_dead_workers_old_job_again_rather_than_closing_it_as_never_taken_up(
    case, client, faculty, django_capture_on_commit_callbacks
):
    """A job made long ago whose worker just died is run again, not closed at once as "no worker took it up"."""
    client.force_login(faculty)
    with django_capture_on_commit_callbacks():
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    IngestJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(hours=2))
    dead(job, phase=IngestJob.Phase.DEIDENTIFY, task=True)
    out = io.StringIO()
    call_command("ingest_sweep", "--minutes", "30", stdout=out)  # the test backend runs the queued task at once
    job.refresh_from_db()
    assert job.status == IngestJob.Status.DONE and job.attempts == 1, job.report
    assert "1 " in out.getvalue() and Image.objects.filter(series__case=case).count() == 3


def test_a_job_queued_again_waits_the_sweeps_time_from_when_it_was_queued(case):
    now = timezone.now()
    old = now - timedelta(hours=2)
    waiting = IngestJob.objects.create(case=case, heartbeat=now - timedelta(minutes=5))  # queued again lately
    forgotten = IngestJob.objects.create(case=case, heartbeat=now - timedelta(minutes=31))
    IngestJob.objects.filter(pk__in=[waiting.pk, forgotten.pk]).update(created=old)
    closed = ingest_sweep(now=now, queued_for=timedelta(minutes=30))
    assert [job.pk for job in closed] == [forgotten.pk]
    assert IngestJob.objects.get(pk=waiting.pk).status == IngestJob.Status.QUEUED


def take_over(job: IngestJob, *, phase: str, capture) -> None:
    """What happens while a run is paused beyond its lease: the check takes the job over, a second run ends it."""
    dead(job, phase=phase, task=True)
    with capture(execute=True):  # the test backend runs the queued task at once: the second run
        ingest_lease_check()


def test_a_run_paused_while_rendering_past_its_lease_saves_nothing_when_it_wakes_up(
    case, django_capture_on_commit_callbacks, monkeypatch
):
    """Paused after its first stage, the first run wakes once the second has ended the job: it stops at once."""
    monkeypatch.setattr(lease, "PROGRESS_SECONDS", 0)  # a run that wakes from a pause writes its progress first
    before = media_files()
    job = IngestJob.objects.create(case=case)
    sources = [
        (1, Source("ct.dcm", dicom_bytes(examples.ct))),
        (2, Source("mr.dcm", dicom_bytes(examples.mr))),
    ]
    ingest_stage(job=job, sources=sources)
    render, calls = _render, []

    def paused(task):
        result = render(task)
        calls.append(task[0])
        if len(calls) == 2:  # the first stage is saved; the second object is rendered, its stage not yet saved
            take_over(
                IngestJob.objects.get(pk=job.pk),
                phase=IngestJob.Phase.RENDER,
                capture=django_capture_on_commit_callbacks,
            )
        return result

    monkeypatch.setattr(stages, "_render", paused)
    first = ingest_run(job=job)
    assert len(calls) == 3, "the second run renders the object the first had not saved; the first stops at once"
    assert first.attempts == 1 and first.status == IngestJob.Status.DONE, "returned as the second run left it"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.cleaned) == (IngestJob.Status.DONE, 1, True)
    assert sorted(outcome for _, outcome, _ in job.report["files"]) == ["already imported", "imported"]
    assert [len(item) for item in [job.report["series"]]] == [1], "the report is the second run's"
    series = case.series.all()
    assert series.count() == 2 and [stage.images.count() for stage in series] == [1, 1], "no stage twice"
    assert orphans(before) == set()


def test_a_run_paused_while_de_identifying_past_its_lease_leaves_nothing_when_it_wakes_up(
    client, faculty, case, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(lease, "PROGRESS_SECONDS", 0)
    before = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks():
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    real_clean, calls = _clean, []

    def paused(task):
        result = real_clean(task)
        calls.append(task[0])
        if len(calls) == 2:  # two objects de-identified and stored by the first run
            take_over(
                IngestJob.objects.get(pk=job.pk),
                phase=IngestJob.Phase.DEIDENTIFY,
                capture=django_capture_on_commit_callbacks,
            )
        return result

    monkeypatch.setattr(clean, "_clean", paused)
    first = ingest_spooled(job=job)
    assert len(calls) == 2 + 3, "the first run stopped at the object it held when it woke up"
    assert first.attempts == 1, "returned as the second run left it"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.phase, job.cleaned) == (
        IngestJob.Status.DONE,
        1,
        IngestJob.Phase.RENDER,
        True,
    )
    assert job.processed == job.total == 3, "the first run's progress did not overwrite the second's"
    refused = {index: reason for index, outcome, reason in job.report["files"] if outcome == "refused"}
    assert refused == {2: "not a DICOM file", 3: "not a DICOM file"}, "the second run's report, whole"
    assert case.series.count() == 3 and Image.objects.filter(series__case=case).count() == 3
    assert orphans(before) == set() and not spool_of(job).exists()


def test_a_paused_run_that_wakes_before_its_stage_is_saved_saves_no_stage(case, monkeypatch):
    """The fence in the stage's own transaction: the check that took the job over may come just before it."""
    job = IngestJob.objects.create(case=case)
    ingest_stage(job=job, sources=[(1, Source("ct.dcm", dicom_bytes(examples.ct)))])
    before = media_files()  # the stored object, which the next run renders
    save_stage = _save_stage

    def taken_over_first(job_, series_group, objects):
        IngestJob.objects.filter(pk=job.pk).update(attempts=1, status="queued", processed=0)  # requeued
        return save_stage(job_, series_group, objects)

    monkeypatch.setattr(stages, "_save_stage", taken_over_first)
    ingest_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed, job.report.get("series")) == (IngestJob.Status.QUEUED, 1, 0, None)
    assert not case.series.exists()
    assert media_files() == before, "its frames deleted, the stored object left for the next run to render"
