"""The case page's mid-size rendition of an image, between the 360 px thumbnail and the web image.

A radiograph's web image is up to 2,048 px and about 935 kB of PNG; the page shows it at most at the page's
width, so it gets a JPEG no larger than ``MEDIUM_SIDE`` (about a tenth of the bytes) and the browser picks
among the three by ``srcset``. Images no larger than that need none: the web image is already the size.
"""

import io
import logging
from dataclasses import dataclass

import PIL.Image
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from imaging import pictures, windows
from imaging import values as imaging_values

from . import page_cache, signed_media, values
from .models import Image, Series, image_upload_to

logger = logging.getLogger(__name__)

MEDIUM_SIDE = 1280  # the page's content is at most 1,140 CSS px wide


def medium_of(picture: PIL.Image.Image) -> ContentFile | None:
    """Return the rendition of a web picture as a JPEG file, or None when the picture is no larger than it."""
    if max(picture.size) <= MEDIUM_SIDE:
        return None
    return ContentFile(pictures.thumbnail_of(picture, side=MEDIUM_SIDE), name="medium.jpg")


def image_medium_make(*, image: Image) -> str:
    """Give an image its rendition from its stored web image when it needs one and has none; return its name.

    Returns "" when none was made (the web image is small enough, or the image has one already).
    """
    if image.medium or max(image.width, image.height) <= MEDIUM_SIDE:
        return ""
    with image.file.open("rb") as handle:
        picture = PIL.Image.open(io.BytesIO(handle.read()))
        picture.load()
    medium = medium_of(picture)
    if medium is None:
        return ""
    name = default_storage.save(image_upload_to(image, medium.name), medium)
    try:
        with transaction.atomic():
            # Only if the web image is still the one read: a mask saved meanwhile made its own rendition.
            updated = Image.objects.filter(pk=image.pk, file=image.file.name, medium="").update(medium=name)
    except Exception:
        default_storage.delete(name)
        raise
    if not updated:
        default_storage.delete(name)
        return ""
    page_cache.content_changed()  # update() sends no signal
    image.medium.name = name
    return name


def images_medium_fill(images) -> int:
    """Make the missing renditions of the images the case page shows (those with a thumbnail); return how many.

    A file that cannot be read is logged and left without one: the page then shows the web image.
    """
    made = 0
    page_images = images.exclude(thumbnail="").filter(medium="")  # a stack's slices have no thumbnail
    for image in page_images.filter(Q(width__gt=MEDIUM_SIDE) | Q(height__gt=MEDIUM_SIDE)).order_by("pk"):
        try:
            made += bool(image_medium_make(image=image))
        except (OSError, PIL.UnidentifiedImageError) as error:
            logger.warning("No rendition for image %s (%s)", image.pk, type(error).__name__)
    return made


def series_page_pictures(*, series: Series) -> int:
    """Draw the thumbnail and rendition of the images the page shows in the stage's window; return how many.

    A stage its author opens in a named window (``Series.window_preset``: tf101's CT in bone) is shown on the
    case page and its card in that window too, from the prepared viewer values; without a window (or values)
    they are made again from the web image, in the window stored with it. Run once the values are prepared
    (the import task, the demo loader, masking) and when the author changes the window.
    """
    window = windows.preset_named(series.window_preset) if series.window_preset else None
    made = 0
    for image in series.images.exclude(thumbnail="").order_by("pk"):
        picture = _picture_in(image, window) if window else None
        if picture is None:
            with image.file.open("rb") as handle:
                picture = PIL.Image.open(io.BytesIO(handle.read()))
                picture.load()
        _page_pictures_store(image, picture, windowed=window is not None)
        made += 1
    return made


def _picture_in(image: Image, window: windows.Window) -> PIL.Image.Image | None:
    prepared = values.image_values(image=image)
    if prepared is None:
        return None
    array = imaging_values.expand_values(prepared.data, (image.height, image.width), prepared.dtype)
    return PIL.Image.fromarray(windows.linear_display(array, window, invert=prepared.inverted))


@transaction.atomic
def _page_pictures_store(image: Image, picture: PIL.Image.Image, *, windowed: bool) -> None:
    """Replace an image's thumbnail and rendition; a windowed picture gets a rendition whatever its size."""
    medium = (
        ContentFile(pictures.thumbnail_of(picture, side=MEDIUM_SIDE), name="medium.jpg")
        if windowed
        else medium_of(picture)
    )
    old = [image.thumbnail.name, image.medium.name]
    thumbnail = ContentFile(pictures.thumbnail_of(picture), name="thumbnail.jpg")
    made = [default_storage.save(image_upload_to(image, thumbnail.name), thumbnail)]
    made.append(default_storage.save(image_upload_to(image, medium.name), medium) if medium else "")
    # Only if the image is still the one read: a mask saved meanwhile (a new web image) made its own pictures,
    # and these, drawn from the unmasked values, must not replace them.
    updated = Image.objects.filter(pk=image.pk, file=image.file.name, thumbnail=old[0], medium=old[1]).update(
        thumbnail=made[0], medium=made[1]
    )
    kept, dropped = (made, old) if updated else (old, made)
    image.thumbnail.name, image.medium.name = kept
    transaction.on_commit(lambda: [default_storage.delete(name) for name in dropped if name])
    if updated:
        page_cache.content_changed()  # update() sends no signal


THUMBNAIL_SIDE = 360  # imaging.pictures.thumbnail_of's and cases.web_images' default
SMALL_SIDE = 400  # a picture this small (a nuclear medicine frame) is shown at a fixed height, not stretched


@dataclass(frozen=True)
class PageImage:
    """How the case page offers an image: its files by width for ``srcset``, through the permission-checked view."""

    src: str
    srcset: str
    small: bool


def page_image(image: Image) -> PageImage:
    """Return the case page's sources of an image: thumbnail, rendition and web image, each by its true width."""
    longest = max(image.width, image.height, 1)
    sources: dict[int, str] = {}
    if image.medium:  # a smaller rendition, or the picture in the stage's window: then the web image is not offered
        sources[round(image.width * min(1, MEDIUM_SIDE / longest))] = _url(image.medium.name)
    if not image.medium or longest > MEDIUM_SIDE:
        sources.setdefault(image.width, _url(image.file.name))
    if image.thumbnail and longest > THUMBNAIL_SIDE:
        sources.setdefault(round(image.width * THUMBNAIL_SIDE / longest), _url(image.thumbnail.name))
    srcset = ", ".join(f"{url} {width}w" for width, url in sorted(sources.items()))
    src = _url(image.medium.name) if image.medium else _url(image.file.name)
    return PageImage(src=src, srcset=srcset, small=longest < SMALL_SIDE)


def _url(name: str) -> str:
    return signed_media.media_url(name)
