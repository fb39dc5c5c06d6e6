"""Writes of the services module."""

import pytest
from django.db import IntegrityError

from cases import services
from cases.tests.factories import make_case, make_image, make_series


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
