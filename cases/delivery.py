"""How a stored image reaches its reader once the permission check has let it through (docs/storage.md)."""

import mimetypes

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect

from .stored import stored_open


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
    handle, size = stored_open(name)
    response = FileResponse(handle, content_type=content_type)
    response["Content-Length"] = size
    response["Cache-Control"] = "private, max-age=3600"
    return response
