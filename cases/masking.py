"""Masking burned-in text: rectangles blacked out in every stored form of an image (web image, thumbnail and
DICOM object), and the viewer values prepared anew for the masked object."""

import io
import math
import uuid

import numpy
import PIL.Image
import pydicom
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from imaging import mask

from . import renditions, services, values
from .models import Image


@transaction.atomic
def image_apply_masks(*, image: Image, rectangles: list[list[int]]) -> None:
    """Black out rectangles (in web-image pixels) of burned-in text, in every stored form of the image.

    Frames that share one DICOM object are masked alike; the image is then no longer held for review.
    """
    image.refresh_from_db()  # an earlier mask in the same save may have replaced its files
    rectangles = mask.clip_rectangles(rectangles, width=image.width, height=image.height)
    siblings = [image]
    if image.dicom_file:
        siblings = list(Image.objects.filter(dicom_file=image.dicom_file.name).order_by("pk"))
        _mask_stored_dicom(image, rectangles)
    for sibling in siblings:
        with sibling.file.open("rb") as handle:
            picture = PIL.Image.open(io.BytesIO(handle.read()))
            picture.load()
        masked = PIL.Image.fromarray(
            mask.mask_array(numpy.asarray(picture), _scale(rectangles, image, sibling.width, sibling.height))
        )
        buffer = io.BytesIO()
        masked.save(buffer, format="PNG")
        buffer.seek(0)
        services.image_set_files(image=sibling, prepared=services.image_prepare(buffer))
        sibling.dicom_file.name = image.dicom_file.name  # the masked object replaced the one loaded above
        sibling.held_for_review = False
        sibling.masks = [*sibling.masks, *[list(rectangle) for rectangle in rectangles]]
        sibling.save()
    if image.dicom_file:
        values.series_prepare_values(series=image.series)  # for the masked object, under its new name
        if image.series.window_preset:
            renditions.series_page_pictures(series=image.series)


def _scale(rectangles, image: Image, width: int, height: int):
    sx, sy = width / image.width, height / image.height
    # Floor the start and ceil the end, so scaling never leaves a strip of text uncovered.
    return [
        (
            math.floor(x * sx),
            math.floor(y * sy),
            math.ceil((x + w) * sx) - math.floor(x * sx),
            math.ceil((y + h) * sy) - math.floor(y * sy),
        )
        for x, y, w, h in rectangles
    ]


def _mask_stored_dicom(image: Image, rectangles) -> None:
    with image.dicom_file.open("rb") as handle:
        dataset = pydicom.dcmread(io.BytesIO(handle.read()))
    dicom_rectangles = _scale(rectangles, image, int(dataset.Columns), int(dataset.Rows))
    mask.mask_dataset(dataset, dicom_rectangles)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    old = image.dicom_file.name
    new = default_storage.save(f"dicom/{uuid.uuid4().hex}.dcm", ContentFile(buffer.getvalue()))
    Image.objects.filter(dicom_file=old).update(dicom_file=new)
    image.dicom_file.name = new
    transaction.on_commit(lambda: services.image_files_delete([old]))
