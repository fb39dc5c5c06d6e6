"""Plain factories for tests: ``make_case(**overrides)`` and friends."""

import io
import itertools

import PIL.Image
from django.contrib.auth import get_user_model
from django.core.files import File
from django.urls import reverse
from pydicom.data import get_testdata_file

from accounts.services import user_set_role
from cases import services, values
from cases.models import Case, CaseFinding, Gate, Modality, Region, Series, Topic

_numbers = itertools.count(1)


def make_user(username: str, role: str | None = None, **overrides):
    user = get_user_model().objects.create_user(username=username, password="pw-for-tests", **overrides)
    if role:
        user_set_role(user=user, role=role)
    return user


def make_topic(**overrides) -> Topic:
    number = next(_numbers)
    fields = {"name": f"Test topic {number}", "slug": f"test-topic-{number}", "summary": "A test diagnosis."}
    return Topic.objects.create(**{**fields, **overrides})


def make_case(*, authors=(), findings=(), **overrides) -> Case:
    number = next(_numbers)
    fields = {
        "number": f"t{number:05d}",
        "title": f"Test case {number}",
        "status": Case.Status.PUBLISHED,
        "region": Region.PELVIS,
        "brief_history": "A patient with pain.",
        "diagnosis": f"Secret diagnosis {number}",
    }
    case = Case.objects.create(**{**fields, **overrides})
    case.authors.set(authors)
    for order, text in enumerate(findings, start=1):
        CaseFinding.objects.create(case=case, order=order, text=text)
    return case


def make_series(*, case: Case, **overrides) -> Series:
    fields = {"modality": Modality.RADIOGRAPH, "order": case.series.count() + 1}
    return Series.objects.create(case=case, **{**fields, **overrides})


def make_gate(*, series: Series, **overrides) -> Gate:
    fields = {"kind": Gate.Kind.IMPRESSION, "reasoning": f"Reasoning after {series.pk}: why this step."}
    return Gate.objects.create(series=series, **{**fields, **overrides})


def pass_gates(client, number: str) -> None:
    """Answer every gate of a case in order, as a reader who works through it before the reveal."""
    answers = {Gate.Kind.NEXT_STEP: {"option": "1"}, Gate.Kind.DIFFERENTIAL: {"differential_1": "gout"}}
    for gate in Gate.objects.filter(series__case__number=number).order_by("series__order", "series__pk"):
        data = answers.get(gate.kind, {"text": "So far: something in the soft tissues."})
        response = client.post(reverse("cases:gate-answer", args=[number, gate.pk]), data)
        assert response.status_code == 302, response.content


def png_bytes(size=(64, 48), color=128, mode="L") -> io.BytesIO:
    buffer = io.BytesIO()
    PIL.Image.new(mode, size, color).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def make_image(*, series: Series, order: int = 1, **overrides):
    prepared = services.image_prepare(png_bytes())
    return services.image_create(series=series, prepared=prepared, order=order, **overrides)


def make_dicom_image(*, series: Series, order: int = 1, prepare_values: bool = True):
    """Return an image backed by a stored DICOM object: pydicom's 128×128 CT test slice, its viewer values
    prepared as an import prepares them (unless ``prepare_values`` is false)."""
    image = services.image_create(series=series, prepared=services.image_prepare(png_bytes((128, 128))), order=order)
    with open(get_testdata_file("CT_small.dcm", download=False), "rb") as handle:
        image.dicom_file.save("dicom/test/ct_small.dcm", File(handle))
    if prepare_values:
        values.series_prepare_values(series=series)
    return image
