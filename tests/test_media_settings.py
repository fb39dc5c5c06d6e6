"""Media storage read from the environment (teachingfile/settings/media.py): disk unless a bucket is named."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from teachingfile.settings.media import media_delivery, media_origin, media_signing_key, media_storage

BUCKET = {"TEACHINGFILE_S3_BUCKET": "teaching-media"}


def test_without_a_bucket_media_are_files_on_disk_streamed_by_the_site():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media_delivery({}) == "proxy"
    assert media_origin({}) == []


def test_a_bucket_makes_a_private_signed_s3_storage_and_keys_are_optional():
    storage = media_storage(BUCKET | {"TEACHINGFILE_S3_ENDPOINT_URL": "https://s3.example.org"})
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"]) == ("teaching-media", "https://s3.example.org")
    assert options["default_acl"] is None and options["querystring_auth"] and not options["file_overwrite"]
    assert "access_key" not in options, "boto3 finds its own credentials (instance role, AWS_ACCESS_KEY_ID)"
    keyed = media_storage(BUCKET | {"TEACHINGFILE_S3_ACCESS_KEY_ID": "id", "TEACHINGFILE_S3_SECRET_ACCESS_KEY": "s"})
    assert (keyed["OPTIONS"]["access_key"], keyed["OPTIONS"]["secret_key"]) == ("id", "s")


def test_a_redirect_needs_a_bucket_and_a_known_delivery():
    with pytest.raises(ImproperlyConfigured, match="needs TEACHINGFILE_S3_BUCKET"):
        media_delivery({"TEACHINGFILE_MEDIA_DELIVERY": "redirect"})
    with pytest.raises(ImproperlyConfigured, match="one of proxy, redirect"):
        media_delivery(BUCKET | {"TEACHINGFILE_MEDIA_DELIVERY": "x-accel"})


@pytest.mark.parametrize(
    ("environ", "origin"),
    [
        ({"TEACHINGFILE_S3_ENDPOINT_URL": "http://minio.lan:9000/"}, "http://minio.lan:9000"),
        (
            {"TEACHINGFILE_S3_ENDPOINT_URL": "https://rgw.example.org", "TEACHINGFILE_S3_ADDRESSING_STYLE": "virtual"},
            "https://teaching-media.rgw.example.org",
        ),
        ({"TEACHINGFILE_S3_REGION": "eu-west-1"}, "https://teaching-media.s3.eu-west-1.amazonaws.com"),
    ],
)
def test_redirects_add_the_buckets_origin_to_the_pages_image_sources(environ, origin):
    assert media_origin(BUCKET | {"TEACHINGFILE_MEDIA_DELIVERY": "redirect"} | environ) == [origin]


def test_signed_image_urls_need_a_long_plain_key_and_media_on_disk():
    key = {"TEACHINGFILE_MEDIA_SIGNING_KEY": "k" * 32}
    assert media_signing_key({}) == ""
    assert media_signing_key(key) == "k" * 32
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        media_signing_key({"TEACHINGFILE_MEDIA_SIGNING_KEY": "short"})
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        media_signing_key({"TEACHINGFILE_MEDIA_SIGNING_KEY": 'k" ; return 200; "' + "k" * 32})
    with pytest.raises(ImproperlyConfigured, match="for media on disk"):
        media_signing_key(BUCKET | key)
