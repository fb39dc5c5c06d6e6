"""Turn an uploaded PNG or JPEG into a clean web image and a thumbnail.

Every upload is decoded and re-encoded: that proves the file is a whole image,
drops EXIF, text chunks and colour profiles (which can carry patient data or
device names) and normalises the pixel mode.
"""

import io
import logging
import warnings
from dataclasses import dataclass
from typing import IO

import PIL.Image
import PIL.ImageOps
from django.core.files.base import ContentFile

from . import renditions

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = {"PNG": ".png", "JPEG": ".jpg"}
WEB_MAX_SIDE = 2048
THUMBNAIL_MAX_SIDE = 360


class UnusableImage(ValueError):
    """An upload that cannot become a web image; the message is for the author."""


@dataclass(frozen=True)
class PreparedImage:
    web: ContentFile
    thumbnail: ContentFile
    medium: ContentFile | None  # the case page's rendition (cases/renditions.py), None for a small picture
    width: int
    height: int


def prepare_web_image(upload: IO[bytes], *, max_bytes: int, max_pixels: int) -> PreparedImage:
    """Validate an upload and return its re-encoded web image and thumbnail."""
    size = getattr(upload, "size", None)
    if size == 0:
        raise UnusableImage("The file is empty.")
    if size is not None and size > max_bytes:
        raise UnusableImage(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)
            picture = PIL.Image.open(upload)
            if picture.format not in ACCEPTED_FORMATS:
                raise UnusableImage("Only PNG and JPEG images are accepted.")
            width, height = picture.size
            if width * height > max_pixels:
                raise UnusableImage(
                    f"The image is too large ({width}×{height} pixels; the limit is {max_pixels:,} pixels)."
                )
            picture.load()
    except UnusableImage:
        raise
    except (PIL.Image.DecompressionBombError, PIL.Image.DecompressionBombWarning) as error:
        raise UnusableImage("The image is too large to open safely.") from error
    except PIL.UnidentifiedImageError as error:
        raise UnusableImage("The file is not a PNG or JPEG image.") from error
    except (OSError, SyntaxError, ValueError) as error:
        logger.info("Rejected a damaged image upload: %s", error)
        raise UnusableImage("The image is damaged or incomplete (truncated).") from error

    suffix = ACCEPTED_FORMATS[picture.format]
    picture = _web_mode(PIL.ImageOps.exif_transpose(picture))
    picture.thumbnail((WEB_MAX_SIDE, WEB_MAX_SIDE), PIL.Image.Resampling.LANCZOS)
    web = _encode(picture, suffix)
    thumb = picture.copy()
    thumb.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), PIL.Image.Resampling.LANCZOS)
    thumbnail = _encode(thumb.convert("RGB") if thumb.mode not in ("L", "RGB") else thumb, ".jpg")
    medium = renditions.medium_of(picture)
    return PreparedImage(web=web, thumbnail=thumbnail, medium=medium, width=picture.width, height=picture.height)


def _web_mode(picture: PIL.Image.Image) -> PIL.Image.Image:
    """Return the picture in a mode browsers show: 8-bit grey, RGB or RGBA."""
    if picture.mode in ("L", "RGB", "RGBA"):
        return picture
    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        grey = picture.convert("F")
        low, high = grey.getextrema()
        scale = 255.0 / (high - low) if high > low else 0.0
        return grey.point(lambda value: (value - low) * scale).convert("L")
    if picture.mode in ("LA", "PA") or "transparency" in picture.info:
        return picture.convert("RGBA")
    return picture.convert("RGB")


def _encode(picture: PIL.Image.Image, suffix: str) -> ContentFile:
    buffer = io.BytesIO()
    if suffix == ".png":
        picture.save(buffer, format="PNG", optimize=False, compress_level=6)
    else:
        picture.save(buffer, format="JPEG", quality=90, optimize=True)
    return ContentFile(buffer.getvalue(), name=f"image{suffix}")
