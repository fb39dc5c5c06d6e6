"""Save a package's cases as new drafts of the importer, in one transaction: all of it, or nothing.

Each case gets a new number, the status draft and the importer as its only author, whatever the package says.
Every row is checked by its model's own validation before it is saved, and every file is checked by ``files``;
the first problem refuses the whole package, the rows roll back and the files already written are deleted.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model

from cases.models import (
    Annotation,
    Case,
    CaseFinding,
    CaseReference,
    DifferentialEntry,
    Gate,
    Image,
    Series,
    Topic,
    image_upload_to,
)
from cases.tasks import prepare_viewer_values
from ingest.frames import FrameLabels
from quizzes.geometry import polygon_problem
from quizzes.models import Option, Question

from .archive import PackageArchive, PackageLimits, PackageRefused
from .checks import check_format, check_markup, check_schema, parse_json, where
from .files import CheckedDicom, dicom_store, picture_prepare
from .mirc import is_mirc, mirc_document
from .schema import (
    ANNOTATION_FIELDS,
    CASE_FIELDS,
    CASE_FILE,
    CASE_FORMAT,
    COLLECTION_FILE,
    COLLECTION_FORMAT,
    GATE_FIELDS,
    IMAGE_FIELDS,
    OPTION_FIELDS,
    QUESTION_FIELDS,
    STAGE_FIELDS,
    STAGE_OPTIONAL_FIELDS,
    VERSION,
)

logger = logging.getLogger(__name__)

Reader = Callable[[str], bytes]


@dataclass
class PackageImport:
    """What an import made: the new draft cases, and notes for the person (topics not found, images held)."""

    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: str = "package"


@dataclass(frozen=True)
class _StoredImage:
    """An image's files, stored before its row is written."""

    file: str
    thumbnail: str
    width: int
    height: int
    dicom: str
    held: bool
    medium: str = ""
    labels: FrameLabels | None = None


@dataclass
class _Run:
    """One import's state: who imports, the files written so far (deleted if it fails), the notes."""

    by: object
    result: PackageImport
    written: list[str] = field(default_factory=list)


def package_import(*, handle, by, limits: PackageLimits | None = None) -> PackageImport:
    """Import a teaching-file package (one case or a collection) or a MIRC document zip as new drafts."""
    archive = PackageArchive(handle, limits=limits or PackageLimits.from_settings())
    if archive.has(COLLECTION_FILE):
        documents = _collection_documents(archive)
        kind = "collection"
    elif archive.has(CASE_FILE):
        documents = [_case_document(archive, folder="")]
        kind = "package"
    elif is_mirc(archive):
        name, content, reader = mirc_document(archive)
        # Read into the same document as a package, and checked by the same rules.
        check_document({"format": CASE_FORMAT, "version": VERSION, "case": content}, name=name)
        documents = [(name, content, reader)]
        kind = "MIRC document"
    else:
        raise PackageRefused(
            "This zip is neither a teaching-file package (no case.json) nor a MIRC document (no MIRCdocument XML)."
        )
    run = _Run(by=by, result=PackageImport(kind=kind))
    try:
        # The files first, outside the transaction: de-identifying and re-encoding take seconds, and the
        # database's write lock (SQLite's is one for everyone) is held only while the rows are written.
        stored = [
            (name, content, *_files_store(run, content=content, reader=reader)) for name, content, reader in documents
        ]
        with transaction.atomic():
            for name, content, case, files in stored:
                run.result.cases.append(_case_create(run, case=case, content=content, files=files, name=name))
    except Exception:
        for written in run.written:
            default_storage.delete(written)
        raise
    series_ids = [pk for case in run.result.cases for pk in case.series.values_list("pk", flat=True)]
    transaction.on_commit(lambda: prepare_viewer_values.enqueue(series_ids=series_ids))
    numbers = ", ".join(case.number for case in run.result.cases)
    logger.info("Imported a %s as draft case(s) %s for user %s", kind, numbers, by.pk)
    return run.result


def _case_document(archive: PackageArchive, *, folder: str) -> tuple[str, dict, Reader]:
    name = folder + CASE_FILE
    document = parse_json(archive.read(name), name=name)
    check_document(document, name=name)
    return name, document["case"], lambda member: archive.read(folder + member)


def check_document(document: dict, *, name: str) -> None:
    """Refuse a case document of another format or version, one the schema refuses, or one with markup."""
    check_format(document, name=name, expected=CASE_FORMAT)
    check_schema(document, name=name)
    check_markup(document, name=name)


def _collection_documents(archive: PackageArchive) -> list[tuple[str, dict, Reader]]:
    collection = parse_json(archive.read(COLLECTION_FILE), name=COLLECTION_FILE)
    check_format(collection, name=COLLECTION_FILE, expected=COLLECTION_FORMAT)
    check_schema(collection, name=COLLECTION_FILE, kind=COLLECTION_FORMAT)
    return [_case_document(archive, folder=f"{folder}/") for folder in collection["cases"]]


def _checked(row: Model, *, name: str, path: tuple, exclude: tuple = (), clean: bool = False) -> Model:
    """Save a row once its model's own validation passes; refuse the package with the field and the reason.

    ``clean``: the model's ``clean`` too (a gate's rules: its options, a stage shown before the reveal).
    """
    try:
        row.clean_fields(exclude=exclude)
        if clean:
            row.clean()
        row.validate_constraints()
    except ValidationError as error:
        field_name, messages = next(iter(error.message_dict.items()))
        place = path if field_name == NON_FIELD_ERRORS else (*path, field_name)
        raise PackageRefused(f"{name}: {where(place)}: {' '.join(messages)}") from None
    row.save()
    return row


def case_number_new() -> str:
    """Return an unused case number that says nothing about the case: "p" and eight random characters."""
    while True:
        number = f"p{secrets.token_hex(4)}"
        if not Case.objects.filter(number=number).exists():
            return number


def _topic(slug: str | None, run: _Run) -> Topic | None:
    if not slug:
        return None
    topic = Topic.objects.filter(slug=slug).first()
    if topic is None:
        run.result.notes.append(f"The topic {slug} is not on this site: link the topic yourself.")
    return topic


def _files_store(run: _Run, *, content: dict, reader: Reader) -> tuple[Case, dict]:
    """Store every image's files for a case not yet saved (its de-identification keys are already drawn)."""
    case = Case(status=Case.Status.DRAFT)
    files: dict[tuple[int, int], _StoredImage] = {}
    objects: dict[str, CheckedDicom] = {}  # a multi-frame object is stored once for all its frames' images
    for stage_number, stage in enumerate(content.get("stages", []), start=1):
        for number, item in enumerate(stage["images"], start=1):
            picture = reader(item["file"])
            prepared = picture_prepare(data=picture, member=item["file"])
            web = default_storage.save(image_upload_to(None, prepared.web.name), prepared.web)
            run.written.append(web)
            thumbnail, medium = "", ""
            if item["thumbnail"]:  # the images the case page shows: their rendition too
                thumbnail = default_storage.save(image_upload_to(None, prepared.thumbnail.name), prepared.thumbnail)
                run.written.append(thumbnail)
                if prepared.medium is not None:
                    medium = default_storage.save(image_upload_to(None, prepared.medium.name), prepared.medium)
                    run.written.append(medium)
            dicom, held, labels = "", False, None
            if item["dicom"]:
                if item["dicom"] not in objects:
                    checked = dicom_store(data=reader(item["dicom"]), member=item["dicom"], case=case, picture=picture)
                    run.written.append(checked.name)
                    objects[item["dicom"]] = checked
                checked = objects[item["dicom"]]
                dicom, held = checked.name, checked.held
                frame = item["frame_number"] - 1
                labels = checked.labels[frame] if 0 <= frame < len(checked.labels) else None
            files[stage_number, number] = _StoredImage(
                web, thumbnail, prepared.width, prepared.height, dicom, held, medium, labels
            )
    return case, files


def _case_create(run: _Run, *, case: Case, content: dict, files: dict, name: str) -> Case:
    for key in CASE_FIELDS:
        if key in content:
            setattr(case, key, content[key])
    case.number, case.topic = case_number_new(), _topic(content.get("topic"), run)
    _checked(case, name=name, path=("case",), exclude=("deid_secret",))
    case.authors.set([run.by])
    for order, text in enumerate(content.get("findings", []), start=1):
        _checked(CaseFinding(case=case, order=order, text=text), name=name, path=("case", "findings", order - 1))
    for order, entry in enumerate(content.get("differential", []), start=1):
        row = DifferentialEntry(case=case, order=order, **{key: entry[key] for key in ("diagnosis", "reasoning")})
        row.topic = _topic(entry.get("topic"), run)
        _checked(row, name=name, path=("case", "differential", order - 1))
    for order, entry in enumerate(content.get("references", []), start=1):
        _checked(CaseReference(case=case, order=order, **entry), name=name, path=("case", "references", order - 1))
    stages: list[tuple[Series, list[Image]]] = []
    for order, entry in enumerate(content.get("stages", []), start=1):
        stages.append(_stage_create(case=case, entry=entry, order=order, files=files, name=name))
    for index, entry in enumerate(content.get("questions", [])):
        question = _question_create(case=case, entry=entry, stages=stages, name=name, path=("case", "questions", index))
        question.authors.set([run.by])
    held = sum(image.held_for_review for _series, images in stages for image in images)
    if held:
        run.result.notes.append(f"{case.number}: {held} image(s) held for a burned-in text check before publishing.")
    return case


def _stage_create(*, case: Case, entry: dict, order: int, files: dict, name: str):
    path = ("case", "stages", order - 1)
    fields = {key: entry[key] for key in STAGE_FIELDS} | {
        key: entry.get(key, default) for key, default in STAGE_OPTIONAL_FIELDS.items()
    }
    series = _checked(Series(case=case, order=order, **fields), name=name, path=path)
    if entry.get("gate"):
        gate = Gate(series=series, **{key: entry["gate"][key] for key in GATE_FIELDS})
        _checked(gate, name=name, path=(*path, "gate"), clean=True)
    images = []
    for number, item in enumerate(entry["images"], start=1):
        image_path = (*path, "images", number - 1)
        stored = files[order, number]
        image = Image(series=series, order=number, **{key: item[key] for key in IMAGE_FIELDS})
        spacing = item["pixel_spacing_mm"]
        image.pixel_spacing_mm = None if spacing is None else Decimal(spacing)
        image.file.name, image.thumbnail.name, image.dicom_file.name = stored.file, stored.thumbnail, stored.dicom
        image.medium.name = stored.medium
        image.width, image.height = stored.width, stored.height
        for key, value in (stored.labels.image_fields() if stored.labels else {}).items():
            setattr(image, key, value)
        image.held_for_review = image.held_for_review or stored.held
        _checked(image, name=name, path=image_path, exclude=("file", "thumbnail", "medium", "dicom_file"))
        for index, mark in enumerate(item["annotations"]):
            row = Annotation(image=image, **{key: mark[key] for key in ANNOTATION_FIELDS})
            _checked(row, name=name, path=(*image_path, "annotations", index))
        images.append(image)
    return series, images


def _question_create(*, case: Case, entry: dict, stages: list, name: str, path: tuple) -> Question:
    question = Question(case=case, key=f"{case.number}-{secrets.token_hex(3)}", topic=None)
    for key in QUESTION_FIELDS:
        setattr(question, key, entry[key])
    if entry["topic"]:
        question.topic = Topic.objects.filter(slug=entry["topic"]).first()
    if question.target_shape == Question.Shape.POLYGON and (problem := polygon_problem(question.target_points)):
        raise PackageRefused(f"{name}: {where((*path, 'target_points'))}: {problem}")
    if entry["stage"] is not None:
        if entry["stage"] > len(stages):
            raise PackageRefused(f"{name}: {where((*path, 'stage'))} names a stage the case does not have.")
        question.series = stages[entry["stage"] - 1][0]
    if entry["image"] is not None:
        stage, number = entry["image"]["stage"], entry["image"]["image"]
        if stage > len(stages) or number > len(stages[stage - 1][1]):
            raise PackageRefused(f"{name}: {where((*path, 'image'))} names an image the case does not have.")
        question.image = stages[stage - 1][1][number - 1]
    # Not ``full_clean``: its ``clean`` asks for a published case, and an import is a draft; the fields and the
    # database's constraints are checked.
    _checked(question, name=name, path=path)
    for order, option in enumerate(entry["options"], start=1):
        row = Option(question=question, order=order, **{key: option[key] for key in OPTION_FIELDS})
        _checked(row, name=name, path=(*path, "options", order - 1))
    return question
