"""What the DICOM receiver does with what it receives: each object de-identified in memory and only its
de-identified copy stored (``clean.clean_one``, the uploads' path), the objects of a study gathered per
association, and a released study turned into a draft case of the route's author (or added to the draft the
author chose, ``routes``) whose import job renders it.

An object's original bytes are never written: pynetdicom keeps a received data set in memory, and
``clean_one`` stores what the de-identifier returns, under the folder of the job the study will have
(``storage.stored_folder_of``). Until the study becomes a draft its folder belongs to no job; an association
that ends without a release (aborted, its socket closed) deletes what it stored, and the receiver deletes any
such folder a killed receiver left when it starts (``receiver_sweep``). The original UIDs that tie objects to
their study and to a teaching-file selection are held in memory only, never logged.
"""

import contextlib
import datetime
import io
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field

import pydicom
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cases.drafts import PLACEHOLDERS, case_next_number
from cases.models import Case, Image, random_date_offset, random_secret
from imaging import deidentify as deid
from imaging import tce
from imaging.sources import Source
from imaging.withheld import quiet_pydicom

from .clean import case_keys, clean_one
from .models import IngestJob, ReceivedStudy, ReceiverDay, ReceiverRoute
from .outcomes import REFUSED, report_files
from .routes import case_takes_studies_of, route_destination_open
from .storage import discard_files, listed, stored_folder_of
from .tasks import ingest_job

logger = logging.getLogger(__name__)

_ROUTING_TAGS = ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "Modality"]
NOT_FLAGGED = "not among the images flagged for the teaching file"


@dataclass
class Study:
    """One study being received for one route: the keys and folder of its future draft, and what has arrived.

    ``case_id`` names the draft the author chose for it (its keys de-identify the study); ``chosen_gone`` says
    the route named a draft that could no longer take it when the study began.
    """

    route_id: int
    author_id: int
    case_id: int | None = None
    chosen_gone: bool = False
    token: uuid.UUID = field(default_factory=uuid.uuid4)
    keys: deid.CaseKeys = field(
        default_factory=lambda: deid.CaseKeys(uid_secret=random_secret(), date_offset_days=random_date_offset())
    )
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    next_index: int = 0
    senders: int = 0  # associations sending objects of it now
    released: list["Part"] = field(default_factory=list)
    quiet_since: float = 0.0

    @property
    def folder(self) -> str:
        return stored_folder_of(self.token)

    def take_index(self) -> int:
        with self.lock:
            self.next_index += 1
            return self.next_index


@dataclass
class Part:
    """What one association stored of one study: original SOP Instance UID → stored name (memory only)."""

    stored: dict[str, str] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    modalities: set[str] = field(default_factory=set)
    selection: tce.TeachingSelection | None = None


@dataclass(frozen=True)
class Received:
    """The routing header of a received object, read before anything is stored (values stay in memory)."""

    sop_class: str
    instance_uid: str
    study_uid: str
    modality: str


def part10_bytes(*, file_meta: pydicom.Dataset, data_set: bytes) -> bytes:
    """Return a received data set as the bytes of a DICOM file (PS3.10), in memory, for the uploads' reader."""
    buffer = io.BytesIO()
    buffer.write(b"\x00" * 128 + b"DICM")
    pydicom.filewriter.write_file_meta_info(buffer, file_meta, enforce_standard=True)
    buffer.write(data_set)
    return buffer.getvalue()


def received_header(data: bytes) -> Received | None:
    """Return the routing attributes of a received object, or None when they cannot be read."""
    try:
        with quiet_pydicom():
            header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, specific_tags=_ROUTING_TAGS)
        values = [str(header.get(keyword, "") or "").strip() for keyword in _ROUTING_TAGS]
    except Exception as error:  # noqa: BLE001 - a damaged header fails in many ways; its reason is not quoted
        logger.info("A received object's header could not be read (%s)", type(error).__name__)
        return None
    if not values[1]:
        return None
    return Received(*values)


def teaching_selection_of(data: bytes) -> tce.TeachingSelection | None:
    """Return the teaching-file selection a received key object makes, or None."""
    try:
        with quiet_pydicom():
            return tce.teaching_selection(pydicom.dcmread(io.BytesIO(data)))
    except Exception as error:  # noqa: BLE001
        logger.info("A received key object could not be read (%s)", type(error).__name__)
        return None


def received_study_begin(*, route_id: int) -> Study:
    """Begin a study of the route, de-identified with the keys of the draft its author chose when there is one (its
    dates then count from that case's day zero, and a series it already holds is recognised), else with new keys."""
    route = ReceiverRoute.objects.select_related("author").get(pk=route_id)
    case, gone = route_destination_open(route)
    study = Study(route_id=route.pk, author_id=route.author_id, chosen_gone=gone)
    if case is not None:
        study.case_id, study.keys = case.pk, case_keys(case)
    return study


def received_object_store(*, study: Study, part: Part, received: Received, data: bytes) -> str:
    """De-identify one received object in memory and store its de-identified copy; return "" or the reason refused."""
    index = study.take_index()
    source = Source(f"object {index}", data)
    stored, reason = clean_one(index=index, source=source, keys=study.keys, folder=study.folder)
    if stored is None:
        part.refused[index] = reason
        logger.warning("The DICOM receiver refused an object: %s", reason)
        return reason
    if received.instance_uid in part.stored:  # sent twice in one association: the later copy replaces it
        discard_files([part.stored[received.instance_uid]])
    part.stored[received.instance_uid] = stored
    part.modalities.add(received.modality[:16])
    return ""


def received_part_discard(part: Part) -> None:
    """Delete what one association stored (it ended without a release, or was refused for a limit)."""
    discard_files(part.stored.values())
    part.stored.clear()


def received_folder_remove(study: Study) -> None:
    """Delete a study's folder and whatever is left in it (it made no draft)."""
    discard_files(listed(study.folder))
    with contextlib.suppress(NotImplementedError, OSError):  # object storage has no folders
        os.rmdir(default_storage.path(study.folder))


def receiver_day_count(*, route_id: int, size: int) -> bool:
    """Count one object of ``size`` bytes for the route today; return False (counting nothing) past the day's limits."""
    today = timezone.now().date()
    day, _ = ReceiverDay.objects.get_or_create(route_id=route_id, day=today)
    counted = ReceiverDay.objects.filter(
        pk=day.pk,
        bytes__lte=settings.TEACHINGFILE_RECEIVER_MAX_DAY_BYTES - size,
        objects_received__lt=settings.TEACHINGFILE_RECEIVER_MAX_DAY_OBJECTS,
    ).update(bytes=F("bytes") + size, objects_received=F("objects_received") + 1)
    return bool(counted)


def receiver_day_exhausted(*, route_id: int) -> bool:
    """Whether the route has used up today's limits (an association to it is then refused)."""
    day = ReceiverDay.objects.filter(route_id=route_id, day=timezone.now().date()).first()
    return day is not None and (
        day.bytes >= settings.TEACHINGFILE_RECEIVER_MAX_DAY_BYTES
        or day.objects_received >= settings.TEACHINGFILE_RECEIVER_MAX_DAY_OBJECTS
    )


def received_study_finish(*, study: Study) -> ReceivedStudy | None:
    """Turn a study whose associations were all released into a draft case of the route's author; queue its render.

    With a teaching-file selection among its parts, only the flagged objects are kept. A study none of whose
    objects was stored makes no draft and leaves nothing.
    """
    stored, refused, modalities, selection = _merged(study.released)
    if selection is not None:
        for uid in [uid for uid in stored if uid not in selection.instance_uids]:
            discard_files([stored.pop(uid)])
    if not stored:
        received_folder_remove(study)
        logger.info("A received study had no object to import: no draft made")
        return None
    try:
        received = _draft_save(study=study, stored=stored, refused=refused, modalities=modalities, selection=selection)
    except Exception:
        received_folder_remove(study)
        raise
    if received.into == ReceivedStudy.Into.CHOSEN:
        logger.info("The DICOM receiver added a study to the draft its author chose (%s objects)", len(stored))
    else:
        logger.info("The DICOM receiver made draft case %s (%s objects)", received.case.number, len(stored))
    return received


def _merged(parts: list[Part]) -> tuple[dict[str, str], dict[int, str], set[str], tce.TeachingSelection | None]:
    stored: dict[str, str] = {}
    refused: dict[int, str] = {}
    modalities: set[str] = set()
    selections = [part.selection for part in parts if part.selection is not None]
    for part in parts:
        for uid, name in part.stored.items():
            if uid in stored:  # the same object sent again in a later association: the later copy is kept
                discard_files([stored[uid]])
            stored[uid] = name
        refused |= part.refused
        modalities |= part.modalities
    selection = None
    if selections:
        selection = tce.TeachingSelection(
            instance_uids=frozenset().union(*(chosen.instance_uids for chosen in selections)),
            delays=tuple(dict.fromkeys(delay for chosen in selections for delay in chosen.delays)),
            levels=tuple(dict.fromkeys(level for chosen in selections for level in chosen.levels)),
        )
    return stored, refused, modalities, selection


@transaction.atomic
def _draft_save(
    *,
    study: Study,
    stored: dict[str, str],
    refused: dict[int, str],
    modalities: set[str],
    selection: tce.TeachingSelection | None,
) -> ReceivedStudy:
    """Save the draft, its import job (already past de-identification) and the received study; queue the render."""
    author = get_user_model().objects.get(pk=study.author_id)
    case, into = _destination(study, author)
    if case is None:
        case = _draft_case(study)
        case.authors.add(author)
    kept = set(stored.values())
    discard_files(name for name in listed(study.folder) if name not in kept)  # replaced and unflagged copies
    job = IngestJob(token=study.token, case=case, created_by=author, phase=IngestJob.Phase.RENDER, total=len(kept))
    flagged = {}
    if selection is not None:
        flagged = {
            "flagged": len(selection.instance_uids),
            "delays": list(selection.delays),
            "levels": list(selection.levels),
        }
    job.report = {"candidates": len(kept) + len(refused), "received": True, "teaching_selection": flagged}
    report_files(job, {index: (REFUSED, reason) for index, reason in refused.items()})
    job.save()
    received = ReceivedStudy.objects.create(
        case=case,
        job=job,
        route=ReceiverRoute.objects.filter(pk=study.route_id).first(),
        objects_received=len(kept),
        modalities=", ".join(sorted(modalities))[:100],
        flagged=flagged,
        into=into,
    )
    transaction.on_commit(lambda: ingest_job.enqueue(token=str(job.token)))
    return received


def _destination(study: Study, author) -> tuple[Case | None, str]:
    """Return the chosen draft (locked) if it may still take the study, else None and why a new draft is made.

    A chosen draft published, submitted or deleted since takes nothing: the route goes back to a new draft per
    study, and the study's inbox row says so.
    """
    if study.case_id is not None:
        case = Case.objects.select_for_update().filter(pk=study.case_id).first()
        if case is not None and case.status == Case.Status.DRAFT and case.is_editable_by(author):
            return case, ReceivedStudy.Into.CHOSEN
    elif not study.chosen_gone:
        return None, ReceivedStudy.Into.NEW
    route = ReceiverRoute.objects.select_related("author", "destination").filter(pk=study.route_id).first()
    if (
        route is not None
        and route.adds_to_draft
        and not (route.destination is not None and case_takes_studies_of(case=route.destination, route=route))
    ):
        ReceiverRoute.objects.filter(pk=route.pk).update(destination=None, adds_to_draft=False)
    logger.warning("The draft chosen for a route's studies can no longer take them: the study became a new draft")
    return None, ReceivedStudy.Into.FALLBACK


def _draft_case(study: Study) -> Case:
    """Create the draft with the keys its objects were de-identified with, its text the placeholders the
    workflow refuses (``cases.drafts``), its number the next free one."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return Case.objects.create(
                    number=case_next_number(),
                    status=Case.Status.DRAFT,
                    region="",
                    deid_secret=study.keys.uid_secret,
                    date_offset_days=study.keys.date_offset_days,
                    **PLACEHOLDERS,
                )
        except IntegrityError:  # another draft took the number meanwhile
            continue
    raise IntegrityError("No free case number after three tries.")


def receiver_routes_ensure(routes: dict[str, str], *, users: dict) -> list[ReceiverRoute]:
    """Route each AE title to the account named beside it unless it is routed already (the demo's routes)."""
    return [
        ReceiverRoute.objects.get_or_create(ae_title=ae_title, defaults={"author": users[username]})[0]
        for ae_title, username in routes.items()
    ]


def receiver_sweep(*, older_than: datetime.timedelta) -> int:
    """Delete the stored folders that belong to no import job (a receiver killed mid-study); return how many.

    Only folders named like a job's token, and older than ``older_than``: a study being received now has a
    folder and no job yet, and uploads create their job before their folder.
    """
    try:
        folders, _ = default_storage.listdir("dicom")
    except FileNotFoundError:  # nothing stored yet (object storage has no folders to look for first)
        return 0
    tokens = set()
    for name in folders:
        try:
            tokens.add(uuid.UUID(name))
        except ValueError:
            continue
    owned = set(IngestJob.objects.filter(token__in=tokens).values_list("token", flat=True))
    limit = timezone.now() - older_than
    swept = 0
    for token in tokens - owned:
        folder = stored_folder_of(token)
        # An image keeps its file even when its job's row is gone: only what no image names is the receiver's.
        used = set(Image.objects.filter(dicom_file__startswith=f"{folder}/").values_list("dicom_file", flat=True))
        names = [name for name in listed(folder) if name not in used]
        if names and all(default_storage.get_modified_time(name) < limit for name in names):
            discard_files(names)
            swept += 1
    if swept:
        logger.warning("The DICOM receiver deleted %s folders of studies a stopped receiver left", swept)
    return swept
