"""One de-identified object rendered: its frames as web images and thumbnails under ``images/<job>/``, the
header kept, and the burned-in text check."""

import datetime
import io
import logging
import uuid
from dataclasses import dataclass

import PIL.Image
import pydicom
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from imaging import burned_in, frame_labels, group, render, windows

from .storage import discard_files

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredFrame:
    """One rendered frame, already written to storage."""

    file: str
    thumbnail: str  # empty for a stack's slices
    width: int
    height: int
    window: windows.Window | None
    pixel_spacing_mm: float | None
    slice_position_mm: float | None  # each frame's own: the slices of a split mosaic or an enhanced object
    labels: "FrameLabels"


@dataclass(frozen=True)
class FrameLabels:
    """What the viewer writes on a frame: orientation letters, an NM projection, the time after injection."""

    orientation: list[float] | None
    view: str
    seconds_after_injection: float | None

    @classmethod
    def of(cls, dataset: pydicom.Dataset, *, frame_index: int) -> "FrameLabels":
        nuclear = str(dataset.get("Modality", "")).upper() in ("NM", "PT")
        return cls(
            orientation=frame_labels.image_orientation(dataset, frame_index=frame_index),
            view=frame_labels.nm_view(dataset, frame_index=frame_index) if nuclear else "",
            seconds_after_injection=(
                frame_labels.seconds_after_injection(dataset, frame_index=frame_index) if nuclear else None
            ),
        )

    def image_fields(self) -> dict:
        """Return the values of the image row's fields: ``orientation``, ``view``, ``time_after_injection``."""
        seconds = self.seconds_after_injection
        return {
            "orientation": self.orientation or [],
            "view": self.view,
            "time_after_injection": None if seconds is None else datetime.timedelta(seconds=round(seconds, 3)),
        }


@dataclass(frozen=True)
class RenderedObject:
    frames: list[StoredFrame]
    held: bool
    text_regions: list  # boxes [x, y, width, height] of text found in the first frame, in web-image pixels
    instance_uid: str


def header_without_pixels(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """Return the data elements the grouping needs, without the pixels, lookup tables or the buffer read from.

    The header is pickled back from the worker. Lookup tables are left out: grouping never reads them, a palette
    can weigh 384 kB, and pydicom keeps a parsed lookup-table descriptor (a palette's read as Implicit VR, once
    rendered) with a local converter function that pickle refuses, which crashed imports with workers.
    """
    # Made from a dict of the elements, as read (parsed only if grouping asks for one): setting them one by one
    # checks each again, which cost as much as the rest of the header's round trip to the main process.
    return pydicom.Dataset(
        {
            tag: dataset.get_item(tag)
            for tag in dataset.keys()  # noqa: SIM118 - iterating a Dataset itself parses every element
            if tag != PIXEL_DATA and not _lookup_table(tag)
        }
    )


def _lookup_table(tag: int) -> bool:
    """Return whether the tag is a palette (0028,11xx-12xx) or a modality or VOI LUT (0028,3xxx), PS3.3 C.7.9, C.11."""
    element = tag & 0xFFFF
    return tag >> 16 == 0x0028 and (0x1100 <= element <= 0x12FF or 0x3000 <= element <= 0x3FFF)


PIXEL_DATA = 0x7FE00010


def frame_name(folder: str, suffix: str) -> str:
    """Name a rendered file in its job's folder: random, so it says nothing about the image."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def render_object(dataset: pydicom.Dataset, *, invert: bool, folder: str) -> tuple[RenderedObject | None, str]:
    """Render and store every frame of a de-identified dataset in ``folder``: (RenderedObject or None, reason)."""
    frames: list[StoredFrame] = []
    first_web = b""  # the first frame's web image, read for burned-in text without reading it back from storage
    # A CT, MR or PET slice is one of hundreds in its stack: only the stage's key image needs a thumbnail,
    # made once the stack is grouped (_thumbnail_key_image).
    thumbnails = str(dataset.get("Modality", "")).upper() not in windows.CROSS_SECTIONAL
    try:
        for index, frame in enumerate(render.render_dataset(dataset, invert=invert, thumbnails=thumbnails)):
            web = default_storage.save(frame_name(folder, frame.web_suffix), ContentFile(frame.web))
            first_web = first_web or frame.web
            thumbnail = ""
            if frame.thumbnail is not None:
                thumbnail = default_storage.save(frame_name(folder, ".jpg"), ContentFile(frame.thumbnail))
            position = group.slice_position(dataset, frame_index=index)
            frames.append(
                StoredFrame(
                    web,
                    thumbnail,
                    frame.width,
                    frame.height,
                    frame.window,
                    frame.pixel_spacing_mm,
                    position,
                    FrameLabels.of(dataset, frame_index=index),
                )
            )
    except Exception as error:  # noqa: BLE001 - RenderError has the author's reason; anything else is damage
        discard_files(stored for frame in frames for stored in (frame.file, frame.thumbnail))
        if isinstance(error, render.RenderError):
            return None, str(error)
        logger.warning("Unexpected %s while rendering a DICOM object", type(error).__name__)
        return None, "could not be rendered"
    if not frames:
        return None, "no frames to show"
    held, regions = burned_in_check(dataset, frame_count=len(frames), first_web=first_web)
    rendered = RenderedObject(
        frames=frames,
        held=held,
        text_regions=regions,
        instance_uid=str(dataset.get("SOPInstanceUID", "")),
    )
    return rendered, ""


def burned_in_check(dataset: pydicom.Dataset, *, frame_count: int, first_web: bytes) -> tuple[bool, list[list[int]]]:
    """Return whether the object is held for burned-in text and the boxes of text found in its first frame.

    Held by its header (``burned_in.burned_in_risk``, with the site's modalities) or, for a radiograph, by
    text in its pixels; a multi-frame radiograph is held unread. Held objects are read too, for pre-drawn masks.
    """
    held = burned_in.burned_in_risk(dataset, extra_modalities=settings.TEACHINGFILE_BURNED_IN_MODALITIES)
    if not held and not burned_in.needs_text_check(dataset):
        return False, []
    if not held and frame_count > 1:
        return True, []
    picture = PIL.Image.open(io.BytesIO(first_web))
    picture.load()
    found = burned_in.find_text(picture)
    return held or found.held, [list(region) for region in found.regions]


def frame_files(rendered: RenderedObject) -> list[str]:
    return [name for frame in rendered.frames for name in (frame.file, frame.thumbnail)]
