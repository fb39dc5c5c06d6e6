"""Short-lived signed addresses of images that nginx checks itself (its ``secure_link`` module), so the bytes of an
image a page shows never pass through Django (docs/decisions.md, "Images signed for the front server").

A page puts an image's address in front of a reader only when the reader may see that image now: invariant 1 keeps
every hidden image's name out of every page, and the image view's check (``cases.views._image_for_reader``) says
the same of every name a page shows (tested: each signed address of each page answers 200 from the checked view to
the same reader). Signing such a name therefore tells the reader nothing new; the signature only lets nginx send
the file without asking Django again, for a few minutes.

An address expires at the end of the window after the one it was made in: ``window()`` is part of every cached
part's key (``cases.page_cache._key``), so a cached page hands out addresses with at least one window left.
Without ``TEACHINGFILE_MEDIA_SIGNING_KEY`` every address is the checked view's, as before.
"""

import base64
import hashlib
import re
import time

from django.conf import settings
from django.urls import reverse

# Only page images: uploads' (images/<2 hex>/) and imports' (images/<32 hex>/), as the image view accepts them.
SIGNABLE = re.compile(r"images/(?:[0-9a-f]{2}|[0-9a-f]{32})/[0-9a-f]{32}\.(?:png|jpg)")


def window() -> int | None:
    """Return the number of the current signing window, or None when images are not signed."""
    if not settings.TEACHINGFILE_MEDIA_SIGNING_KEY:
        return None
    return int(time.time()) // settings.TEACHINGFILE_MEDIA_SIGNED_SECONDS


def media_url(name: str) -> str:
    """Return the address of the stored image ``name`` for a page shown to a reader who may see it now.

    Signed for nginx when a key is configured (valid until the end of the next window), else the image view's.
    """
    current = window()
    if current is None or not SIGNABLE.fullmatch(name):
        return reverse("cases:media-file", args=[name])
    expires = (current + 2) * settings.TEACHINGFILE_MEDIA_SIGNED_SECONDS
    path = settings.TEACHINGFILE_MEDIA_SIGNED_PREFIX + name
    return f"{path}?e={expires}&s={signature(path=path, expires=expires)}"


def signature(*, path: str, expires: int) -> str:
    """Return what nginx computes for ``secure_link_md5 "$secure_link_expires$uri $teachingfile_media_key"``.

    MD5 is the one digest ``secure_link`` offers; the key comes last, so the digest cannot be extended to another
    path without it.
    """
    text = f"{expires}{path} {settings.TEACHINGFILE_MEDIA_SIGNING_KEY}"
    digest = hashlib.md5(text.encode()).digest()  # noqa: S324 (nginx's secure_link knows no other)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
