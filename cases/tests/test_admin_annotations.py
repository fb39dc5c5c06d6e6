"""The annotation editor's JSON API (cases/admin/annotations.py): who may read and replace an image's
annotations, what is refused and why, and the button that opens the editor."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import Image
from cases.tests.factories import make_case, make_image, make_series


def mark(kind="arrow", points=(0.1, 0.2, 0.3, 0.4), label="", after_reveal=True) -> dict:
    return {"kind": kind, "points": list(points), "label": label, "after_reveal": after_reveal}


@pytest.fixture
def annotated_image(faculty):
    """An image of ``faculty``'s case with one ellipse already drawn."""
    image = make_image(series=make_series(case=make_case(authors=[faculty], status="draft")))
    fields = {"kind": "ellipse", "x1": 0.4, "y1": 0.4, "x2": 0.6, "y2": 0.5, "label": "mass", "after_reveal": True}
    services.image_set_annotations(image=image, annotations=[fields])
    return image


def annotations_url(image: Image) -> str:
    return reverse("admin:cases_image_annotations", args=[image.pk])


def post_annotations(client, image: Image, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(annotations_url(image), data, content_type="application/json")


def stored(image: Image) -> list[tuple]:
    return list(image.annotations.values_list("kind", "x1", "y1", "x2", "y2", "label", "after_reveal"))


def test_owner_saves_annotations_and_the_editor_loads_them(client, faculty, annotated_image):
    client.force_login(faculty)
    drawn = [mark(label="fracture line"), mark("text", (0.5, 0.1, 0.5, 0.1), "L", after_reveal=False)]
    response = post_annotations(client, annotated_image, {"annotations": drawn})
    assert response.status_code == 200, response.content
    assert response.json() == {"annotations": drawn}
    assert client.get(annotations_url(annotated_image)).json() == {"annotations": drawn}
    assert stored(annotated_image) == [
        ("arrow", 0.1, 0.2, 0.3, 0.4, "fracture line", True),
        ("text", 0.5, 0.1, 0.5, 0.1, "L", False),
    ]


def test_an_empty_list_removes_every_annotation(client, faculty, annotated_image):
    client.force_login(faculty)
    assert post_annotations(client, annotated_image, {"annotations": []}).status_code == 200
    assert not annotated_image.annotations.exists()


def test_editor_may_annotate_any_case(client, editor, annotated_image):
    client.force_login(editor)
    assert post_annotations(client, annotated_image, {"annotations": [mark()]}).status_code == 200
    assert [row[0] for row in stored(annotated_image)] == ["arrow"]


def test_other_faculty_get_404_and_change_nothing(client, other_faculty, annotated_image):
    before = stored(annotated_image)
    client.force_login(other_faculty)
    assert client.get(annotations_url(annotated_image)).status_code == 404
    assert post_annotations(client, annotated_image, {"annotations": []}).status_code == 404
    assert stored(annotated_image) == before


@pytest.mark.parametrize("role", ["resident", "anonymous"])
def test_residents_and_visitors_are_sent_to_the_admin_login(client, request, role, annotated_image):
    before = stored(annotated_image)
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    for response in (client.get(annotations_url(annotated_image)), post_annotations(client, annotated_image, {})):
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert stored(annotated_image) == before


def test_saving_without_the_csrf_token_is_refused(faculty, annotated_image):
    before = stored(annotated_image)
    client = Client(enforce_csrf_checks=True)
    client.force_login(faculty)
    assert post_annotations(client, annotated_image, {"annotations": []}).status_code == 403
    assert stored(annotated_image) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Nothing was sent"),
        ("{not json", "not valid JSON"),
        ("NaN", "an object with a list of annotations"),
        ({"annotations": {"kind": "arrow"}}, "an object with a list of annotations"),
        ({"annotations": ["arrow"]}, "Annotation 1: give exactly four points"),
        ({"annotations": [mark(), mark("hexagon")]}, "Annotation 2: kind: Select a valid choice."),
        ({"annotations": [mark(points=(0.1, 0.2, 0.3))]}, "Annotation 1: give exactly four points"),
        ({"annotations": [mark(points=(0.1, 0.2, 0.3, 1.5))]}, "Annotation 1: points are fractions"),
        ({"annotations": [mark(points=(-0.1, 0.2, 0.3, 0.4))]}, "Annotation 1: points are fractions"),
        ({"annotations": [mark(points=("0.1", 0.2, 0.3, 0.4))]}, "Annotation 1: the points must be numbers"),
        ({"annotations": [mark(points=(True, 0.2, 0.3, 0.4))]}, "Annotation 1: the points must be numbers"),
        ('{"annotations": [{"kind": "arrow", "points": [NaN, 0, 1, 1]}]}', "Annotation 1: points are fractions"),
        ('{"annotations": [{"kind": "arrow", "points": [1' + "0" * 400 + ", 0, 1, 1]}]}", "points are fractions"),
        ("[" * 5000, "not valid JSON"),
        ({"annotations": [mark(label="x" * 81)]}, "label: Ensure this value has at most 80 characters"),
        ({"annotations": [mark("text", label="  ")]}, "Annotation 1: label: A text label needs its text."),
        ({"annotations": [mark(label=7)]}, "the label must be text"),
        ({"annotations": [mark(after_reveal="yes")]}, "“after reveal” true or false"),
        ({"annotations": [mark()] * 51}, "At most 50 annotations per image."),
        ({"annotations": [mark()], "padding": " " * 20_000}, "Too much to save at once"),
    ],
)
def test_bad_annotations_are_refused_with_a_reason_and_the_old_ones_kept(
    client, faculty, annotated_image, caplog, body, message
):
    before = stored(annotated_image)
    client.force_login(faculty)
    response = post_annotations(client, annotated_image, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()
    assert f"Refused annotations for image {annotated_image.pk}" in caplog.text
    assert stored(annotated_image) == before


def test_annotations_answer_get_and_post_only(client, faculty, annotated_image):
    client.force_login(faculty)
    assert client.put(annotations_url(annotated_image), "{}", content_type="application/json").status_code == 405


def test_each_image_row_offers_its_annotation_editor(client, faculty, annotated_image):
    client.force_login(faculty)
    body = client.get(reverse("admin:cases_series_change", args=[annotated_image.series_id])).content.decode()
    assert f'data-url="{annotations_url(annotated_image)}"' in body
    assert f'data-src="{reverse("cases:media-file", args=[annotated_image.file.name])}"' in body
    assert "Annotations (1)</button>" in body
    assert "js/annotate.js" in body
