"""Where media live: files under MEDIA_ROOT, or an S3-compatible bucket when TEACHINGFILE_S3_BUCKET is set
(AWS S3, MinIO, Ceph RGW; docs/storage.md). Read from the environment given, so tests can build either."""

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DELIVERIES = ("proxy", "redirect")


def media_storage(environ: Mapping[str, str]) -> dict:
    """Return the STORAGES entry for media: django-storages' S3 backend when a bucket is named."""
    bucket = environ.get("TEACHINGFILE_S3_BUCKET", "")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = {
        "bucket_name": bucket,
        "endpoint_url": environ.get("TEACHINGFILE_S3_ENDPOINT_URL") or None,
        "region_name": environ.get("TEACHINGFILE_S3_REGION") or None,
        "addressing_style": environ.get("TEACHINGFILE_S3_ADDRESSING_STYLE") or None,
        "signature_version": "s3v4",
        # Nothing in the bucket is public: every read is signed, and readers reach images through the
        # permission check (cases.file_responses), never through a bucket URL of their own.
        "default_acl": None,
        "querystring_auth": True,
        # Names are random, yet a name taken is never overwritten (the file system's behaviour): one HEAD per save.
        "file_overwrite": False,
    }
    # Without keys boto3 looks for them itself (AWS_ACCESS_KEY_ID, an instance role, ~/.aws).
    if environ.get("TEACHINGFILE_S3_ACCESS_KEY_ID"):
        options["access_key"] = environ["TEACHINGFILE_S3_ACCESS_KEY_ID"]
        options["secret_key"] = environ.get("TEACHINGFILE_S3_SECRET_ACCESS_KEY", "")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def media_delivery(environ: Mapping[str, str]) -> str:
    """Return how images leave after the permission check; a redirect needs object storage to sign URLs."""
    delivery = environ.get("TEACHINGFILE_MEDIA_DELIVERY", "proxy")
    if delivery not in DELIVERIES:
        raise ImproperlyConfigured(f"TEACHINGFILE_MEDIA_DELIVERY is one of {', '.join(DELIVERIES)}.")
    if delivery == "redirect" and not environ.get("TEACHINGFILE_S3_BUCKET"):
        raise ImproperlyConfigured("TEACHINGFILE_MEDIA_DELIVERY=redirect needs TEACHINGFILE_S3_BUCKET.")
    return delivery


def media_origin(environ: Mapping[str, str]) -> list[str]:
    """Return the origin that signed URLs point to, which the pages' CSP must allow images from (redirect only)."""
    if media_delivery(environ) != "redirect":
        return []
    endpoint = environ.get("TEACHINGFILE_S3_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        virtual = environ.get("TEACHINGFILE_S3_ADDRESSING_STYLE") == "virtual"
        return [f"{parts.scheme}://{environ['TEACHINGFILE_S3_BUCKET'] + '.' if virtual else ''}{parts.netloc}"]
    region = environ.get("TEACHINGFILE_S3_REGION") or "us-east-1"
    return [f"https://{environ['TEACHINGFILE_S3_BUCKET']}.s3.{region}.amazonaws.com"]


def media_signing_key(environ: Mapping[str, str]) -> str:
    """Return the key nginx and Django share to sign image URLs ("" when off); only for media on a disk."""
    key = environ.get("TEACHINGFILE_MEDIA_SIGNING_KEY", "")
    if not key:
        return ""
    if environ.get("TEACHINGFILE_S3_BUCKET"):
        raise ImproperlyConfigured("TEACHINGFILE_MEDIA_SIGNING_KEY is for media on disk; a bucket signs its own URLs.")
    # It is written into nginx's configuration between quotes: letters, digits, - and _ only, and long.
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,}", key):
        raise ImproperlyConfigured("TEACHINGFILE_MEDIA_SIGNING_KEY: at least 32 letters, digits, - or _.")
    return key
