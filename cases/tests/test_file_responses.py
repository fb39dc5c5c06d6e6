"""Images and viewer values: permission first, then 304s, private caching, the front server's sendfile."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from cases.tests.factories import make_case, make_dicom_image, make_image, make_series


@pytest.fixture
def images(faculty):
    """An image shown before the reveal and one shown after it, on a published case of ``faculty``'s."""
    case = make_case(authors=[faculty])
    shown = make_image(series=make_series(case=case))
    hidden = make_image(series=make_series(case=case, after_reveal=True))
    return shown, hidden


def media(image) -> str:
    return reverse("cases:media-file", args=[image.file.name])


def test_an_image_carries_validators_and_is_cached_privately_only(client, resident, images):
    shown, _ = images
    client.force_login(resident)
    response = client.get(media(shown))
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and response["Last-Modified"]
    assert response["Cache-Control"] == "private, max-age=3600", "no shared cache may keep a copy"
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


def test_revalidating_an_unchanged_image_answers_304_without_the_file(client, resident, images):
    shown, _ = images
    client.force_login(resident)
    etag = client.get(media(shown))["ETag"]
    again = client.get(media(shown), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "private, max-age=3600"
    other = client.get(media(shown), headers={"If-None-Match": '"an-older-copy"'})
    assert other.status_code == 200


def test_a_thumbnail_has_its_own_etag(client, resident, images):
    shown, _ = images
    client.force_login(resident)
    web = client.get(media(shown))["ETag"]
    thumbnail = client.get(reverse("cases:media-file", args=[shown.thumbnail.name]))["ETag"]
    assert web != thumbnail


def test_a_hidden_image_is_404_with_or_without_a_validator(client, resident, faculty, images):
    """The 304 comes after the permission check: a matching ETag must not tell a resident the image exists."""
    _, hidden = images
    client.force_login(faculty)
    etag = client.get(media(hidden))["ETag"]
    client.force_login(resident)
    assert client.get(media(hidden)).status_code == 404
    assert client.get(media(hidden), headers={"If-None-Match": etag}).status_code == 404
    assert client.get(media(hidden), headers={"If-None-Match": "*"}).status_code == 404
    client.logout()
    assert client.get(media(hidden), headers={"If-None-Match": etag}).status_code == 404


@override_settings(TEACHINGFILE_MEDIA_ACCEL_REDIRECT="/protected-media/")
def test_with_nginx_configured_the_image_is_sent_by_nginx_after_the_check(client, resident, images):
    shown, hidden = images
    client.force_login(resident)
    response = client.get(media(shown))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{shown.file.name}"
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600" and response["ETag"]
    assert client.get(media(shown), headers={"If-None-Match": response["ETag"]}).status_code == 304
    refused = client.get(media(hidden))
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


@override_settings(TEACHINGFILE_MEDIA_X_SENDFILE=True)
def test_with_apache_configured_the_image_is_sent_by_x_sendfile(client, resident, images):
    shown, hidden = images
    client.force_login(resident)
    response = client.get(media(shown))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Sendfile"] == str(Path(settings.MEDIA_ROOT) / shown.file.name)
    assert "X-Sendfile" not in client.get(media(hidden))


def test_without_a_front_server_no_sendfile_header_is_sent(client, resident, images):
    shown, _ = images
    client.force_login(resident)
    response = client.get(media(shown))
    assert "X-Accel-Redirect" not in response and "X-Sendfile" not in response


def test_viewer_values_revalidate_and_change_with_the_stage_modality(client, resident, faculty):
    image = make_dicom_image(series=make_series(case=make_case(authors=[faculty]), modality="CT"))
    url = reverse("cases:image-values", args=[image.pk])
    client.force_login(resident)
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    image.series.modality = "NM"  # nuclear medicine is drawn inverted: the same values, another answer
    image.series.save(update_fields=["modality"])
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
