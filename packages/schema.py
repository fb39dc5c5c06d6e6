"""The package format: its name and version, the JSON Schema of ``case.json`` and of ``collection.json``.

The schema is built from the models, so a field's length limit and its choices are the database's own; a test
keeps ``docs/package.schema.json`` equal to it (``python manage.py package_schema`` writes it).
"""

from django.db import models

from cases.models import Annotation, Case, CaseReference, DifferentialEntry, Gate, Image, Series
from quizzes.models import Option, Question

CASE_FORMAT = "teachingfile-case"
COLLECTION_FORMAT = "teachingfile-collection"
VERSION = 1
CASE_FILE = "case.json"
COLLECTION_FILE = "collection.json"
TEXT_LIMIT = 50_000  # a text field without a database limit: longer than any case's discussion, short of abuse
SCHEMA_ID = "https://teachingfile.invalid/schemas/package-v1.json"

CASE_FIELDS = list(Case.AUTHORED_FIELDS)
STAGE_FIELDS = [
    "modality",
    "phase",
    "plane",
    "sequence",
    "technique",
    "caption",
    "body_part",
    "after_reveal",
    "label_confirmed",
    "study_day",
]
# Added to version 1 after its release: optional, so that packages written before still import.
STAGE_OPTIONAL_FIELDS = {"window_preset": ""}
GATE_FIELDS = ["kind", "question", "options", "reasoning"]  # a stage's gate (optional too; null: none)
IMAGE_FIELDS = [
    "frame_number",
    "caption",
    "alt_text",
    "slice_position_mm",
    "window_center",
    "window_width",
    "is_key",
    "held_for_review",
    "masks",
]
ANNOTATION_FIELDS = ["kind", "x1", "y1", "x2", "y2", "label", "after_reveal"]
QUESTION_FIELDS = [
    "kind",
    "stem",
    "explanation",
    "target_x",
    "target_y",
    "target_radius",
    "target_shape",
    "target_points",
    "slice_from",
    "slice_to",
]
OPTION_FIELDS = ["text", "is_correct", "rationale"]
REQUIRED_CASE = ["title", "region", "brief_history", "diagnosis"]


def field_schema(model: type[models.Model], name: str) -> dict:
    """Return the JSON Schema of one model field: its type, length limit, choices and whether it may be null."""
    field = model._meta.get_field(name)
    if isinstance(field, models.BooleanField):
        schema: dict = {"type": "boolean"}
    elif isinstance(field, models.IntegerField):
        schema = {"type": "integer"}
    elif isinstance(field, models.FloatField):
        schema = {"type": "number"}
    elif isinstance(field, models.DecimalField):
        schema = {"type": "string", "pattern": rf"^-?\d{{1,{field.max_digits}}}(\.\d{{1,{field.decimal_places}}})?$"}
    elif isinstance(field, models.JSONField):
        schema = {"type": "array", "maxItems": 100, "items": {"type": "array", "items": {"type": "number"}}}
    else:
        schema = {"type": "string", "maxLength": field.max_length or TEXT_LIMIT}
    if field.choices:
        schema["enum"] = [value for value, _label in field.flatchoices]
        if field.blank and "" not in schema["enum"] and schema["type"] == "string":
            schema["enum"].append("")
    if field.null:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _object(model: type[models.Model], names: list[str], *, required: list[str] = (), **extra) -> dict:
    properties = {name: field_schema(model, name) for name in names}
    return {
        "type": "object",
        "properties": {**properties, **extra},
        "required": list(required) or list(properties),
        "additionalProperties": False,
    }


SLUG = {"anyOf": [{"type": "string", "maxLength": 200, "pattern": r"^[-a-zA-Z0-9_]+$"}, {"type": "null"}]}
MEMBER = {"type": "string", "maxLength": 200, "pattern": r"^[a-z]+/[-a-z0-9_]+\.[a-z0-9]+$"}
POSITION = {"type": "integer", "minimum": 1, "maximum": 10_000}


def _stage(image: dict) -> dict:
    """Return the schema of a stage: its fields (the optional ones not required) and its images."""
    stage = _object(
        Series,
        STAGE_FIELDS,
        label={"type": "string"},
        images={"type": "array", "maxItems": 5000, "items": image},
        **{name: field_schema(Series, name) for name in STAGE_OPTIONAL_FIELDS},
        gate={"anyOf": [_object(Gate, GATE_FIELDS), {"type": "null"}]},
    )
    stage["required"] = [*stage["required"], "images"]
    return stage


def case_schema() -> dict:
    """Return the JSON Schema of ``case.json``, version 1."""
    annotation = _object(Annotation, ANNOTATION_FIELDS)
    image = _object(
        Image,
        IMAGE_FIELDS + ["pixel_spacing_mm"],
        file=MEMBER,
        dicom={"anyOf": [MEMBER, {"type": "null"}]},
        thumbnail={"type": "boolean"},
        annotations={"type": "array", "maxItems": 200, "items": annotation},
    )
    image["required"] = [*image["required"], "file", "dicom", "thumbnail", "annotations"]
    stage = _stage(image)
    option = _object(Option, OPTION_FIELDS)
    image_ref = {
        "anyOf": [
            {
                "type": "object",
                "properties": {"stage": POSITION, "image": POSITION},
                "required": ["stage", "image"],
                "additionalProperties": False,
            },
            {"type": "null"},
        ]
    }
    question = _object(
        Question,
        QUESTION_FIELDS,
        topic=SLUG,
        stage={"anyOf": [POSITION, {"type": "null"}]},
        image=image_ref,
        options={"type": "array", "maxItems": 20, "items": option},
    )
    question["required"] = [*question["required"], "topic", "stage", "image", "options"]
    differential = _object(DifferentialEntry, ["diagnosis", "reasoning"], topic=SLUG)
    differential["required"] = ["diagnosis", "reasoning", "topic"]
    case = _object(
        Case,
        CASE_FIELDS,
        required=REQUIRED_CASE,
        topic=SLUG,
        findings={"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": TEXT_LIMIT}},
        differential={"type": "array", "maxItems": 50, "items": differential},
        references={"type": "array", "maxItems": 100, "items": _object(CaseReference, ["citation", "url"])},
        stages={"type": "array", "maxItems": 100, "items": stage},
        questions={"type": "array", "maxItems": 100, "items": question},
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Teaching-file case package (case.json), version 1",
        "type": "object",
        "properties": {"format": {"const": CASE_FORMAT}, "version": {"const": VERSION}, "case": case},
        "required": ["format", "version", "case"],
        "additionalProperties": False,
        "$defs": {"collection": collection_schema()},
    }


def collection_schema() -> dict:
    """Return the JSON Schema of ``collection.json``: the folders of its cases, each with its ``case.json``."""
    folder = {"type": "string", "pattern": r"^case-[0-9]{1,4}$"}
    return {
        "type": "object",
        "properties": {
            "format": {"const": COLLECTION_FORMAT},
            "version": {"const": VERSION},
            "cases": {"type": "array", "minItems": 1, "maxItems": 500, "items": folder, "uniqueItems": True},
        },
        "required": ["format", "version", "cases"],
        "additionalProperties": False,
    }
