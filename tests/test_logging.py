"""Every log line docs/decisions.md promises the operator is written, to a handler the settings configure."""

import io
import logging
import re
import socket
import warnings
from datetime import timedelta
from pathlib import Path

import pydicom
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pydicom import examples

from cases import services
from cases.tests.factories import make_case, make_image, make_series, png_bytes
from discussions import services as discussion_services
from discussions.models import Comment
from imaging import group
from imaging.tests.corpus import reasons
from ingest.models import IngestJob
from ingest.tests.test_lifecycle import dead
from ingest.watch import ingest_lease_check
from packages.tests import helpers as package_helpers
from quizzes.models import Attempt
from quizzes.tests.factories import make_quiz, make_sba

pytestmark = pytest.mark.django_db

DECISIONS = Path(settings.BASE_DIR) / "docs" / "decisions.md"
ROW = re.compile(r"^\| `([\w.]+)` \| [A-Z]+ \| `([^`]+)` \|", re.MULTILINE)


def documented_lines() -> list[tuple[str, str]]:
    """(logger, line) of each row of the "Log lines" table."""
    section = DECISIONS.read_text().split("### Log lines", 1)[1].split("\n#", 1)[0]
    return ROW.findall(section)


def reaches_a_configured_handler(record: logging.LogRecord) -> bool:
    """Whether a handler from the settings (not pytest's capture) receives this record."""
    logger = logging.getLogger(record.name)
    while logger is not None:
        configured = [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        if any(record.levelno >= handler.level for handler in configured):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


def revealed_reader(case, username: str = "reader-log") -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user(username=username, password="pw"))
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    return client


def refuse_a_reveal(request):
    client = Client()
    client.force_login(request.getfixturevalue("resident"))
    client.post(reverse("cases:case-reveal", args=[make_case().number]), {"committed_answer": "x" * 201})


def lose_an_image_file(request):
    image = make_image(series=make_series(case=make_case()))
    default_storage.delete(image.file.name)
    client = Client()
    client.force_login(request.getfixturevalue("resident"))
    client.get(reverse("cases:media-file", args=[image.file.name]))


def refuse_an_upload(request):
    bad = io.BytesIO(b"not an image")
    bad.name = "scan.png"
    services.series_add_images(series=make_series(case=make_case()), uploads=[bad, png_bytes()])


def change_a_status(request):
    faculty = request.getfixturevalue("faculty")
    case = make_case(status="draft", authors=[faculty])
    services.case_set_status(case=case, status="review", by=faculty)


def refuse_annotations(request):
    faculty = request.getfixturevalue("faculty")
    image = make_image(series=make_series(case=make_case(status="draft", authors=[faculty])))
    client = Client()
    client.force_login(faculty)
    url = reverse("admin:cases_image_annotations", args=[image.pk])
    client.post(url, "not JSON", content_type="application/json")


def import_study(request, *files: tuple[str, bytes]) -> None:
    folder = request.getfixturevalue("tmp_path")
    for name, data in files:
        (folder / name).write_bytes(data)
    with pytest.raises((SystemExit, CommandError)):  # the command's exit code is tested in cases/tests
        call_command("import_study", str(folder), case=make_case(status="draft").number, stdout=io.StringIO())


def refuse_a_dicom_file(request):
    import_study(request, ("notes.txt", b"not DICOM"))


def fail_an_import(request):
    def broken(headers):
        raise RuntimeError("the grouping broke")

    request.getfixturevalue("monkeypatch").setattr(group, "group_series", broken)
    ct = io.BytesIO()
    examples.ct.save_as(ct)
    import_study(request, ("ct.dcm", ct.getvalue()))


def read_an_invalid_value(request):
    """pydicom checks a value as it converts it, and reports an invalid one by quoting it."""
    ds = reasons.synthetic_ct()
    ds.NumberOfFrames = 1
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    planted = buffer.getvalue().replace(b"IS\x02\x001 ", b"IS\x0a\x00" + reasons.MRN.encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning half; the log half is the line
        pydicom.dcmread(io.BytesIO(planted)).get("NumberOfFrames")


def sweep_a_stale_import(request):
    job = IngestJob.objects.create(case=make_case(status="draft"))
    IngestJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(hours=1))
    call_command("ingest_sweep", "--minutes", "30", stdout=io.StringIO())


def lose_an_import(*, task: bool):
    def trigger(request):
        job = IngestJob.objects.create(case=make_case(status="draft"))
        dead(job, phase=IngestJob.Phase.RENDER, task=task)
        ingest_lease_check()

    return trigger


def refuse_a_quiz_answer(request):
    client = Client()
    client.force_login(request.getfixturevalue("resident"))
    quiz = make_quiz(questions=[make_sba()])
    client.post(reverse("quizzes:quiz-start", args=[quiz.slug]))
    attempt = Attempt.objects.get(quiz=quiz, user__username="resident-t")
    client.post(reverse("quizzes:attempt-answer", args=[attempt.pk]), {"question": "not a number"})


def refuse_a_picked_image(request):
    faculty, other = request.getfixturevalue("faculty"), request.getfixturevalue("other_faculty")
    foreign = make_image(series=make_series(case=make_case(authors=[other]), label_confirmed=True))
    client = Client()
    client.force_login(faculty)
    data = {"key": "forged", "kind": "sba", "stem": "Which?", "case": foreign.series.case_id, "image": foreign.pk}
    data |= {"options-TOTAL_FORMS": "0", "options-INITIAL_FORMS": "0"}
    client.post(reverse("admin:quizzes_question_add"), data)


def refuse_a_comment(request):
    case = make_case()
    client = revealed_reader(case)
    client.post(reverse("discussions:comment-create", args=[case.number]), {"body": "x" * 100_000})


def moderate(action: str):
    def trigger(request):
        case = make_case()
        comment = Comment.objects.create(case=case, author=request.getfixturevalue("resident"), body="Hmm")
        client = Client()
        client.force_login(request.getfixturevalue("editor"))
        if action == "comment-restore":
            client.post(reverse("discussions:comment-hide", args=[comment.pk]))
        client.post(reverse(f"discussions:{action}", args=[comment.pk]))

    return trigger


def fail_to_mail(request):
    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    request.getfixturevalue("monkeypatch").setattr(discussion_services, "send_mail", refuse)
    faculty = request.getfixturevalue("faculty")
    faculty.email = "faculty@example.org"
    faculty.save()
    with request.getfixturevalue("django_capture_on_commit_callbacks")(execute=True):
        discussion_services.notifications_send(
            users=[faculty], case=make_case(), message="News", subject="News", url="/"
        )


def exhaust_sign_ups(request):
    request.getfixturevalue("settings").TEACHINGFILE_OPEN_SIGNUP = True
    request.getfixturevalue("monkeypatch").setattr("accounts.views.limits.signups_exhausted", lambda request: True)
    Client().post(reverse("accounts:signup"), {"username": "someone"})


def exhaust_resets(request):
    client = Client()
    for _ in range(4):
        client.post(reverse("password_reset"), {"email": "forgetful@example.org"})


def lock_out(request):
    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": "resident", "password": "wrong"})


def export_a_package(request):
    package_helpers.export_bytes(make_case())


def import_a_package(request):
    package_helpers.import_bytes(package_helpers.export_bytes(make_case()), by=request.getfixturevalue("faculty"))


def refuse_a_package(request):
    client = Client()
    client.force_login(request.getfixturevalue("faculty"))
    upload = SimpleUploadedFile("Doe^John.zip", b"not a zip", content_type="application/zip")
    client.post(reverse("admin:cases_case_package_import"), {"package": upload})


def with_redis_down(ask):
    """Run ``ask`` with the cache a real Redis client on a local port nothing listens on."""

    def trigger(request):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cache = {
            "BACKEND": "teachingfile.redis_cache.ReusedClientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
        with override_settings(CACHES={"default": cache}):
            ask()

    return trigger


TRIGGERS = {
    ("cases.views", "Refused a reveal of …"): refuse_a_reveal,
    ("cases.views", "Image … has a row but no stored file"): lose_an_image_file,
    ("cases.services", "Refused an image upload for series …"): refuse_an_upload,
    ("cases.services", "Case … is now …"): change_a_status,
    ("cases.admin.annotations", "Refused annotations for image …"): refuse_annotations,
    ("ingest.clean", "DICOM import … refused a file: …"): refuse_a_dicom_file,
    ("ingest.run", "DICOM import … failed"): fail_an_import,
    ("ingest.watch", "DICOM import … was stale and has been closed"): sweep_a_stale_import,
    ("pydicom", "pydicom reported a problem (message withheld: …)"): read_an_invalid_value,
    ("ingest.watch", "DICOM import … lost its process and has been closed"): lose_an_import(task=False),
    ("ingest.watch", "DICOM import … lost its process and has been queued again"): lose_an_import(task=True),
    ("quizzes.views", "Refused an answer in attempt …"): refuse_a_quiz_answer,
    ("quizzes.admin", "Refused a picked … for question … by user …"): refuse_a_picked_image,
    ("discussions.views", "Refused a comment on …"): refuse_a_comment,
    ("discussions.services", "Comment … hidden by user …"): moderate("comment-hide"),
    ("discussions.services", "Comment … restored by user …"): moderate("comment-restore"),
    ("discussions.services", "Could not send a notification e-mail …"): fail_to_mail,
    ("accounts.views", "Refused a sign-up from …: too many from this client"): exhaust_sign_ups,
    ("accounts.views", "Refused a password reset from …: too many requests"): exhaust_resets,
    ("accounts.limits", "Refused a … request: the cache that counts them is unreachable (…)"): with_redis_down(
        lambda: Client().post(reverse("password_reset"), {"email": "someone@example.org"})
    ),
    ("health.probes", "Not ready: the … is unreachable (…)"): with_redis_down(lambda: Client().get("/readyz")),
    ("axes.handlers.database", "AXES: Locking out …"): lock_out,
    ("packages.export", "Exported a package of … case(s)"): export_a_package,
    ("packages.importer", "Imported a … as draft case(s) … for user …"): import_a_package,
    ("packages.views", "Package import refused for user …: …"): refuse_a_package,
}


def test_every_documented_line_has_a_trigger_and_every_trigger_a_row():
    assert sorted(documented_lines()) == sorted(TRIGGERS)


@pytest.mark.parametrize(("logger", "line"), list(TRIGGERS), ids=[line for _, line in TRIGGERS])
def test_each_documented_line_is_written_to_a_configured_handler(logger, line, request, caplog):
    pattern = re.compile(".*".join(re.escape(part) for part in line.split("…")) + "$", re.DOTALL)
    TRIGGERS[(logger, line)](request)
    records = [r for r in caplog.records if r.name == logger and pattern.match(r.getMessage())]
    assert records, f"{logger} wrote no line like {line!r}"
    assert all(reaches_a_configured_handler(record) for record in records), f"{logger}: {line!r} reaches no handler"


@pytest.mark.parametrize("app", [*settings.PROJECT_APPS, "imaging", "teachingfile"])
def test_every_app_of_ours_logs_at_info(app):
    assert logging.getLogger(f"{app}.anything").isEnabledFor(logging.INFO)
