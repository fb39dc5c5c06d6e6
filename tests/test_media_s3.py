"""Media on S3-compatible object storage (issue 16 §3): an upload stored, images read through the permission
check (streamed or redirected to a signed URL), files deleted, against a real S3 endpoint — moto's standalone
server, started once for the session as its own process (boto3 is never patched)."""

import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path, PurePosixPath

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from cases.models import Image
from cases.services import case_delete
from cases.tests.factories import make_case, make_dicom_image, make_image, make_series
from ingest.models import IngestJob
from ingest.received import receiver_sweep
from ingest.storage import delete_orphans
from ingest.tests.test_lifecycle import left_behind, post_upload, study_upload
from ingest.tests.test_pipeline import media_files
from teachingfile.settings.media import media_storage


def _port() -> int:
    """The port to serve on: TEACHINGFILE_TEST_S3_PORT, or one the system finds free."""
    if os.environ.get("TEACHINGFILE_TEST_S3_PORT"):
        return int(os.environ["TEACHINGFILE_TEST_S3_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 endpoint of the test run's own: ``moto_server`` as a process, up in about two seconds."""
    port = _port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(settings, s3_endpoint):
    """Media in a new bucket of that endpoint, as production configures it from the environment."""
    environ = {
        "TEACHINGFILE_S3_BUCKET": f"media-{uuid.uuid4().hex[:12]}",
        "TEACHINGFILE_S3_ENDPOINT_URL": s3_endpoint,
        "TEACHINGFILE_S3_REGION": "us-east-1",
        "TEACHINGFILE_S3_ACCESS_KEY_ID": "testing",
        "TEACHINGFILE_S3_SECRET_ACCESS_KEY": "testing",
    }
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="x"
    )
    client.create_bucket(Bucket=environ["TEACHINGFILE_S3_BUCKET"])
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(environ)}

    def keys() -> set[str]:
        listed = client.list_objects_v2(Bucket=environ["TEACHINGFILE_S3_BUCKET"])
        return {item["Key"] for item in listed.get("Contents", [])}

    return keys


def test_an_uploaded_study_is_stored_in_the_bucket_and_nothing_in_the_media_folder(
    client, faculty, bucket, django_capture_on_commit_callbacks
):
    case = make_case(authors=[faculty], status="draft")
    on_disk = media_files()
    client.force_login(faculty)
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(client, case, *study_upload())
    job = IngestJob.objects.get(case=case)
    assert job.status == IngestJob.Status.DONE, job.report
    images = Image.objects.filter(series__case=case)
    assert len(images) == 3
    held = {name for image in images for name in (image.file.name, image.thumbnail.name, image.dicom_file.name)}
    stored = bucket()
    assert held <= stored, "every file an image names is in the bucket"
    assert {key for key in stored - held if not key.startswith("values/")} == set(), "no orphan"
    assert media_files() == on_disk, "nothing written under MEDIA_ROOT"
    assert not (Path(django_settings.TEACHINGFILE_UPLOAD_SPOOL) / job.token.hex).exists()

    left = left_behind(job)
    assert set(left) <= bucket()
    assert delete_orphans(job, keep_stored=False) == 2, "a job's folders are listed in the bucket too"
    assert not set(left) & bucket()


@pytest.fixture
def stages(bucket, faculty):
    """A published case with a stage shown up front and one kept for after the reveal, their images stored."""
    case = make_case(authors=[faculty])
    shown = make_image(series=make_series(case=case, label_confirmed=True))
    hidden = make_image(series=make_series(case=case, label_confirmed=True, after_reveal=True))
    return case, shown, hidden


def test_images_are_streamed_from_the_bucket_after_the_permission_check(client, resident, stages, bucket):
    case, shown, hidden = stages
    url = reverse("cases:media-file", args=[shown.file.name])
    assert client.get(url).status_code in (302, 404), "an anonymous visitor gets no image"
    client.force_login(resident)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert response["Content-Length"] == str(shown.file.size)
    assert client.get(reverse("cases:media-file", args=[hidden.file.name])).status_code == 404, "not revealed yet"
    default_storage.delete(shown.file.name)
    assert client.get(url).status_code == 404, "a row whose object is gone"


def test_a_redirect_names_a_signed_url_that_expires_and_only_after_the_check(client, resident, stages, settings):
    settings.TEACHINGFILE_MEDIA_DELIVERY = "redirect"
    settings.TEACHINGFILE_MEDIA_URL_SECONDS = 30
    case, shown, hidden = stages
    client.force_login(resident)
    assert client.get(reverse("cases:media-file", args=[hidden.file.name])).status_code == 404, "no URL leaks"
    response = client.get(reverse("cases:media-file", args=[shown.file.name]))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    assert "X-Amz-Expires=30" in location and "X-Amz-Signature=" in location
    with urllib.request.urlopen(location, timeout=5) as fetched:
        assert fetched.read()[:8] == b"\x89PNG\r\n\x1a\n"
    unsigned = location.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)
    assert refused.value.code == 403, "the bucket answers no unsigned read"


def test_deleting_a_case_deletes_its_images_from_the_bucket(stages, bucket, django_capture_on_commit_callbacks):
    case, shown, hidden = stages
    names = {shown.file.name, shown.thumbnail.name, hidden.file.name, hidden.thumbnail.name} - {""}
    assert names <= bucket()
    with django_capture_on_commit_callbacks(execute=True):
        case_delete(case=case)
    assert not names & bucket()


def test_the_viewers_values_stream_reads_a_stack_from_the_bucket_in_order(client, resident, bucket):
    series = make_series(case=make_case(), modality="CT", label_confirmed=True)
    images = [make_dicom_image(series=series, order=order) for order in range(3)]
    images.append(make_image(series=series, order=3))  # an uploaded picture: a record without values
    first = images[0]
    default_storage.delete(f"values/{PurePosixPath(first.dicom_file.name).stem}/{first.frame_number}.bin")
    assert any(key.startswith("values/") for key in bucket())
    client.force_login(resident)
    response = client.get(reverse("cases:series-values", args=[series.pk]) + "?around=2")
    body = b"".join(response.streaming_content)
    records, offset = [], 0
    while offset < len(body):
        pk, length, flags = struct.unpack_from("<IIB", body, offset)
        records.append((pk, body[offset + 9 : offset + 9 + length]))
        offset += 9 + length
    assert [pk for pk, _ in records] == [images[2].pk, images[1].pk, images[3].pk, images[0].pk]
    for pk, data in records[:2]:
        assert data and data == client.get(reverse("cases:image-values", args=[pk])).content
    assert records[2][1] == records[3][1] == b""


def test_the_receivers_sweep_finds_a_stopped_studys_folder_in_the_bucket(bucket, db):
    folder = f"dicom/{uuid.uuid4()}"
    names = [default_storage.save(f"{folder}/{index}-object.dcm", ContentFile(b"de-identified")) for index in (1, 2)]
    assert set(names) <= bucket()
    assert receiver_sweep(older_than=timedelta(seconds=-60)) == 1, "listed, though a prefix does not 'exist'"
    assert not set(names) & bucket()
