"""A case as the ``case.json`` of its package, and the files the package carries with it.

What goes in is what the case's editor sees on the authoring screen: the case's authored fields, its
findings, differential and references, the topics by slug, the stages with their images and annotations, and
the questions of the bank attached to the case. What stays out: ids and the case number (the importing site
gives its own), dates, status and reviews, the authors' accounts (the credit line carries the attribution),
the de-identification keys, DICOM UIDs and the boxes where text was found in the pixels.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from cases.models import Case, Image, Series
from quizzes.models import Question

from .schema import (
    ANNOTATION_FIELDS,
    CASE_FIELDS,
    CASE_FORMAT,
    GATE_FIELDS,
    IMAGE_FIELDS,
    OPTION_FIELDS,
    QUESTION_FIELDS,
    STAGE_FIELDS,
    STAGE_OPTIONAL_FIELDS,
    VERSION,
)


@dataclass
class CaseDocument:
    """``case.json``'s content, and the stored files to copy into the package under their package names."""

    content: dict
    files: dict[str, str] = field(default_factory=dict)  # package name → storage name


def case_for_export(pk: int) -> Case:
    """Return the case with everything its document reads, in a fixed number of queries."""
    images = Image.objects.prefetch_related("annotations")
    stages = Series.objects.select_related("gate").prefetch_related(Prefetch("images", queryset=images))
    # In the order they were written: an import writes them in the package's order (keys are new).
    questions = Question.objects.select_related("topic").prefetch_related("options").order_by("pk")
    return (
        Case.objects.select_related("topic")
        .prefetch_related(
            "findings",
            "references",
            "differential__topic",
            Prefetch("series", queryset=stages),
            Prefetch("questions", queryset=questions),
        )
        .get(pk=pk)
    )


def case_document(case: Case) -> CaseDocument:
    """Return the package document of a case (loaded by ``case_for_export``)."""
    document = CaseDocument(content={})
    positions: dict[int, tuple[int, int]] = {}
    stages = []
    for stage_number, series in enumerate(case.series.all(), start=1):
        stages.append(_stage(series, stage_number, document, positions))
    content = {name: getattr(case, name) for name in CASE_FIELDS}
    content["topic"] = case.topic.slug if case.topic else None
    content["findings"] = [finding.text for finding in case.findings.all()]
    content["differential"] = [
        {"diagnosis": entry.diagnosis, "reasoning": entry.reasoning, "topic": entry.topic.slug if entry.topic else None}
        for entry in case.differential.all()
    ]
    content["references"] = [{"citation": ref.citation, "url": ref.url} for ref in case.references.all()]
    content["stages"] = stages
    stage_numbers = {series.pk: number for number, series in enumerate(case.series.all(), start=1)}
    content["questions"] = [_question(question, stage_numbers, positions) for question in case.questions.all()]
    document.content = {"format": CASE_FORMAT, "version": VERSION, "case": content}
    return document


def _stage(series: Series, stage_number: int, document: CaseDocument, positions: dict) -> dict:
    stage = {name: getattr(series, name) for name in [*STAGE_FIELDS, *STAGE_OPTIONAL_FIELDS]}
    stage["label"] = series.label
    gate = getattr(series, "gate", None)
    stage["gate"] = {name: getattr(gate, name) for name in GATE_FIELDS} if gate else None
    images = []
    dicom_names: dict[str, str] = {}
    for image_number, image in enumerate(series.images.all(), start=1):
        positions[image.pk] = (stage_number, image_number)
        web = f"images/{stage_number}-{image_number}{_suffix(image.file.name)}"
        document.files[web] = image.file.name
        dicom = None
        if image.dicom_file:
            # A multi-frame object is one file for all its frames' images.
            dicom = dicom_names.setdefault(image.dicom_file.name, f"dicom/{stage_number}-{len(dicom_names) + 1}.dcm")
            document.files[dicom] = image.dicom_file.name
        entry = {name: getattr(image, name) for name in IMAGE_FIELDS}
        spacing = image.pixel_spacing_mm
        entry["pixel_spacing_mm"] = None if spacing is None else _decimal(spacing)
        entry |= {"file": web, "dicom": dicom, "thumbnail": bool(image.thumbnail)}
        marks = image.annotations.all()
        entry["annotations"] = [{name: getattr(mark, name) for name in ANNOTATION_FIELDS} for mark in marks]
        images.append(entry)
    stage["images"] = images
    return stage


def _question(question: Question, stage_numbers: dict[int, int], positions: dict) -> dict:
    entry = {name: getattr(question, name) for name in QUESTION_FIELDS}
    entry["topic"] = question.topic.slug if question.topic else None
    entry["stage"] = stage_numbers.get(question.series_id)
    image = positions.get(question.image_id)
    entry["image"] = {"stage": image[0], "image": image[1]} if image else None
    entry["options"] = [{name: getattr(option, name) for name in OPTION_FIELDS} for option in question.options.all()]
    return entry


def _suffix(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return f".{suffix}" if suffix in ("png", "jpg", "jpeg") else ".png"


def _decimal(value: Decimal) -> str:
    """Write a decimal as digits, never in exponent form (``Decimal("0E-4")``)."""
    return format(value.normalize(), "f") if value else "0"
