"""How a stored image reaches its reader once the permission check has let it through (docs/storage.md)."""

import mimetypes

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect


def stored_file_response(name: str) -> HttpResponse:
    """Stream the stored file, or redirect to a signed URL of the object store that expires soon.

    Raise ``FileNotFoundError`` when the file is not stored (streamed only: a redirect does not look).
    """
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if settings.TEACHINGFILE_MEDIA_DELIVERY == "redirect":
        seconds = settings.TEACHINGFILE_MEDIA_URL_SECONDS
        cache = f"private, max-age={seconds}"
        url = default_storage.url(name, parameters={"ResponseCacheControl": cache}, expire=seconds)
        response = HttpResponseRedirect(url)
        # The redirect must not outlive its URL in the browser's cache.
        response["Cache-Control"] = f"private, max-age={seconds // 2}"
        return response
    bucket = getattr(default_storage, "bucket", None)
    if bucket is None:
        response = FileResponse(default_storage.open(name), content_type=content_type)
    else:
        response = _object_response(bucket, name, content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _object_response(bucket, name: str, content_type: str) -> FileResponse:
    """Stream an object as it arrives, from one GET (the storage's own file asks HEAD first, then downloads it)."""
    try:
        stored = bucket.Object(name).get()
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise FileNotFoundError(name) from error
        raise
    response = FileResponse(stored["Body"], content_type=content_type)
    response["Content-Length"] = stored["ContentLength"]
    return response
