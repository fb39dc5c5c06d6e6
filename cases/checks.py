"""The author's checks of imported content before readers see it: held images confirmed free of identifying
text, masked or deleted; imported stage labels confirmed (the check page, ``admin/image_check.py``)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from . import masking, services
from .models import Case, Image, Series

logger = logging.getLogger(__name__)


@transaction.atomic
def image_confirm_clear(*, image: Image, by) -> Image:
    """Record the author's check that a held image carries no identifying text: readers may then see it."""
    if image.held_for_review:
        image.held_for_review = False
        image.save(update_fields=["held_for_review"])
        logger.info("Image %s confirmed free of identifying text by user %s", image.pk, by.pk)
    return image


@transaction.atomic
def series_confirm_label(*, series: Series, by) -> Series:
    """Record the author's check of an imported stage's label and caption: readers may then see the stage."""
    if not series.label_confirmed:
        series.label_confirmed = True
        series.save(update_fields=["label_confirmed"])
        logger.info("Stage %s label confirmed by user %s", series.pk, by.pk)
    return series


@dataclass(frozen=True)
class ChecksDone:
    """What one save of a case's check page did."""

    cleared: int
    masked: int
    labels: int
    deleted: int = 0


def case_apply_checks(
    *,
    case: Case,
    by,
    clear: Sequence[Image],
    masks: Sequence[tuple[Image, list[list[int]]]],
    labels: Sequence[Series],
    delete: Sequence[Image] = (),
) -> ChecksDone:
    """Confirm held images clean and stages' labels, delete held images, and mask others, all of one case.

    The confirmations and deletions are saved together; each mask then in a transaction of its own: masking
    decodes and encodes pixels, and SQLite's one write lock must not be held across many images (as for the
    admin's masks).
    """
    images = [*clear, *delete, *(image for image, _ in masks)]
    if any(image.series.case_id != case.pk for image in images) or any(series.case_id != case.pk for series in labels):
        raise ValueError("Every image and stage checked must belong to the case.")
    _checks_confirm(clear=clear, labels=labels, delete=delete, by=by)
    for image, rectangles in masks:
        masking.image_apply_masks(image=image, rectangles=rectangles)
        logger.info("Image %s masked by user %s", image.pk, by.pk)
    return ChecksDone(cleared=len(clear), masked=len(masks), labels=len(labels), deleted=len(delete))


@transaction.atomic
def _checks_confirm(*, clear: Sequence[Image], labels: Sequence[Series], delete: Sequence[Image], by) -> None:
    for image in clear:
        image_confirm_clear(image=image, by=by)
    for series in labels:
        series_confirm_label(series=series, by=by)
    for image in delete:
        pk = image.pk
        services.image_delete(image=image)
        logger.info("Held image %s deleted by user %s", pk, by.pk)
