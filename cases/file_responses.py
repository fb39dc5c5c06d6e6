"""Send a stored file to a reader the view has already let see it: validators, 304s, the front server's sendfile.

Every function here runs after the permission check, never before: a 304 says "you may see this", and is
answered only to someone who may.

Stored names are never reused (each save picks a fresh random name, and a changed image is saved anew, under
another name), so a hash of the name is a strong ETag that costs no storage access: a browser's revalidation is
answered 304 from the name alone. ``Cache-Control: private`` keeps shared caches (a hospital's proxy) from
keeping a copy that they would then hand to people who may not see it.
"""

import hashlib
import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

# A browser keeps an image an hour without asking, then revalidates (a 304 from the name alone).
CACHE_CONTROL = "private, max-age=3600"


def name_etag(key: str) -> str:
    """Return the strong ETag of what is stored under ``key`` (a stored name: its content never changes)."""
    return quote_etag(hashlib.blake2b(key.encode(), digest_size=16).hexdigest())


def not_modified(request: HttpRequest, *, key: str) -> HttpResponseBase | None:
    """Return a 304 (or 412) when the reader's copy of what ``key`` names is current, else None."""
    headers = HttpResponse()
    headers["ETag"] = name_etag(key)
    headers["Cache-Control"] = CACHE_CONTROL
    answer = get_conditional_response(request, etag=headers["ETag"], response=headers)
    return None if answer is headers else answer


def stored_file_response(request: HttpRequest, name: str) -> HttpResponseBase:
    """Answer with the stored file ``name``: a 304, the front server's sendfile, or the file streamed.

    Raise FileNotFoundError when the storage has no such file (streamed only: with a front server, the front
    server answers 404 itself).
    """
    answer = not_modified(request, key=name)
    if answer is not None:
        return answer
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if settings.TEACHINGFILE_MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.TEACHINGFILE_MEDIA_ACCEL_REDIRECT + quote(name)
    elif settings.TEACHINGFILE_MEDIA_X_SENDFILE:
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = default_storage.path(name)
    else:
        modified = default_storage.get_modified_time(name)
        response = FileResponse(default_storage.open(name), content_type=content_type)
        response["Last-Modified"] = http_date(modified.timestamp())
    response["ETag"] = name_etag(name)
    response["Cache-Control"] = CACHE_CONTROL
    return response
