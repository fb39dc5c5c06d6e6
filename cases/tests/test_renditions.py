"""The case page's pictures: a mid-size rendition of large images, offered by true widths through the
permission-checked media view, and a stage's pictures drawn in the window it opens in."""

import io

import numpy as np
import PIL.Image
import pytest
from django.core.management import call_command
from django.urls import reverse

from cases import renditions, services, values
from cases.models import Image
from cases.tests.factories import make_case, make_dicom_image, make_image, make_series, png_bytes
from imaging import values as imaging_values
from imaging import windows

pytestmark = pytest.mark.django_db


def _upload(series, size):
    return services.image_create(series=series, prepared=services.image_prepare(png_bytes(size)), order=1)


def _picture(field) -> PIL.Image.Image:
    with field.open("rb") as handle:
        return PIL.Image.open(io.BytesIO(handle.read())).convert("L")


def test_a_radiograph_sized_upload_gets_a_rendition_offered_by_width(client, resident):
    image = _upload(make_series(case=make_case()), (2048, 1720))
    assert _picture(image.medium).size == (1280, 1075)
    page = renditions.page_image(image)
    thumbnail, medium, web = (
        reverse("cases:media-file", args=[field.name]) for field in (image.thumbnail, image.medium, image.file)
    )
    assert page.src == medium
    assert page.srcset == f"{thumbnail} 360w, {medium} 1280w, {web} 2048w"
    client.force_login(resident)
    assert client.get(page.src).status_code == 200


def test_a_rendition_is_served_only_to_readers_who_may_see_the_image(client, resident, faculty):
    image = _upload(make_series(case=make_case(access="private", authors=[faculty])), (1600, 1200))
    url = reverse("cases:media-file", args=[image.medium.name])
    client.force_login(resident)
    assert client.get(url).status_code == 404
    client.force_login(faculty)
    assert client.get(url).status_code == 200


def test_a_small_picture_needs_no_rendition_and_is_offered_as_it_is():
    image = make_image(series=make_series(case=make_case()))
    assert not image.medium
    page = renditions.page_image(image)
    assert page.srcset == f"{page.src} 64w" and page.small


def test_a_portrait_thumbnail_is_offered_at_its_true_width():
    image = _upload(make_series(case=make_case()), (400, 1600))
    widths = [entry.rsplit(" ", 1)[1] for entry in renditions.page_image(image).srcset.split(", ")]
    assert widths == ["90w", "320w", "400w"]


def test_a_stage_opening_in_the_bone_window_is_shown_in_it_on_the_page():
    series = make_series(case=make_case(), modality="CT", window_preset="bone")
    image = make_dicom_image(series=series)
    assert renditions.series_page_pictures(series=series) == 1
    image.refresh_from_db()
    prepared = values.image_values(image=image)
    expected = windows.linear_display(
        imaging_values.expand_values(prepared.data, (128, 128), prepared.dtype), windows.BONE
    )
    drawn = np.asarray(_picture(image.medium), dtype=np.int16)
    assert np.abs(drawn - expected).mean() < 3, "the picture is the values through W1800 L400 (JPEG aside)"
    assert image.file.name not in renditions.page_image(image).srcset, "the web image is in the stored window"


def test_the_linear_window_matches_the_viewers_formula():
    levels = windows.linear_display(np.array([-500.0, -500.0 + 900, 1300.0, 2000.0]), windows.BONE)
    assert levels.tolist() == [0, 127, 255, 255]  # (v - (400 - 900)) * 255 / 1800, truncated as the viewer does
    assert windows.linear_display(np.array([-500.0]), windows.BONE, invert=True).tolist() == [255]


def test_the_command_gives_older_images_their_rendition():
    image = _upload(make_series(case=make_case()), (1600, 1200))
    type(image).objects.filter(pk=image.pk).update(medium="")
    call_command("image_renditions", stdout=io.StringIO())
    image.refresh_from_db()
    assert _picture(image.medium).size == (1280, 960)


def test_the_command_reads_the_orientation_of_older_images_from_their_dicom_header():
    image = make_dicom_image(series=make_series(case=make_case(), modality="CT"), prepare_values=False)
    assert image.orientation == []
    call_command("image_renditions", stdout=io.StringIO())
    image.refresh_from_db()
    assert image.orientation == [1, 0, 0, 0, 1, 0]  # CT_small.dcm: an axial slice


def test_pictures_drawn_before_a_mask_do_not_replace_the_masked_ones():
    """The values task draws a stage's pictures from values read before an author's mask: they are dropped."""
    image = make_image(series=make_series(case=make_case()))
    read_before = Image.objects.get(pk=image.pk)
    masked = {"file": "images/masked.png", "thumbnail": "images/masked-thumbnail.jpg", "medium": ""}
    Image.objects.filter(pk=image.pk).update(**masked)  # what the mask saved meanwhile
    renditions._page_pictures_store(read_before, PIL.Image.new("L", (64, 64)), windowed=True)
    assert Image.objects.filter(pk=image.pk).values(*masked).get() == masked
