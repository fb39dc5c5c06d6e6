"""Writes of the services module."""

import zlib
from pathlib import PurePosixPath

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError

from cases import masking, services, values
from cases.tests.factories import make_case, make_dicom_image, make_image, make_series


def arrow(**overrides) -> dict:
    return {"kind": "arrow", "x1": 0.1, "y1": 0.2, "x2": 0.3, "y2": 0.4, "label": "", "after_reveal": True} | overrides


@pytest.fixture
def image(db):
    return make_image(series=make_series(case=make_case()))


def test_image_set_annotations_replaces_the_old_ones(image):
    services.image_set_annotations(image=image, annotations=[arrow(label="old"), arrow(label="older")])
    services.image_set_annotations(image=image, annotations=[arrow(label="new")])
    assert list(image.annotations.values_list("label", flat=True)) == ["new"]


def test_image_set_annotations_keeps_the_old_ones_when_one_new_row_is_refused(image):
    services.image_set_annotations(image=image, annotations=[arrow(label="kept")])
    with pytest.raises(IntegrityError):
        services.image_set_annotations(image=image, annotations=[arrow(label="fine"), arrow(x2=1.5)])
    assert list(image.annotations.values_list("label", flat=True)) == ["kept"]


def test_image_set_annotations_leaves_other_images_alone(image):
    other = make_image(series=image.series, order=2)
    services.image_set_annotations(image=other, annotations=[arrow(label="other")])
    services.image_set_annotations(image=image, annotations=[])
    assert list(other.annotations.values_list("label", flat=True)) == ["other"]


@pytest.mark.django_db
def test_masking_prepares_the_masked_values_and_drops_the_old_ones(django_capture_on_commit_callbacks):
    image = make_dicom_image(series=make_series(case=make_case()))
    old = f"values/{PurePosixPath(image.dicom_file.name).stem}/1.bin"
    assert default_storage.exists(old)

    with django_capture_on_commit_callbacks(execute=True):
        masking.image_apply_masks(image=image, rectangles=[[0, 0, 20, 20]])
    image.refresh_from_db()
    assert not default_storage.exists(old), "unmasked values are not kept"
    assert default_storage.exists(f"values/{PurePosixPath(image.dicom_file.name).stem}/1.bin")
    prepared = values.image_values(image=image)
    masked = np.frombuffer(zlib.decompress(prepared.data), dtype="<i2").reshape(image.height, image.width)
    assert (masked[:20, :20] == masked.min()).all() and masked[20:, 20:].max() > masked.min()
