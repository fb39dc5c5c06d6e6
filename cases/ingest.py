"""DICOM ingest: feed uploads to the imaging package and save what it returns.

Two steps. ``ingest_stage`` runs in the request (or the command): each file is
read and de-identified in memory, and only the de-identified bytes are written,
to a staging area of the storage backend; the original bytes and file names are
never stored. ``ingest_run`` (the background task) groups the staged objects
into series, renders every frame and saves stages and images, updating the
job's progress as it goes; it removes the staging area whatever happens.
"""

import io
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pydicom
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .imaging import deidentify as deid
from .imaging import group, read, render
from .models import Case, Image, IngestJob, Modality, Phase, Plane, Series

logger = logging.getLogger(__name__)

DICOM_MODALITIES = {
    "CR": Modality.RADIOGRAPH,
    "DX": Modality.RADIOGRAPH,
    "RG": Modality.RADIOGRAPH,
    "CT": Modality.CT,
    "MR": Modality.MR,
    "NM": Modality.NM,
    "PT": Modality.PET,
    "US": Modality.US,
    "RF": Modality.FLUOROSCOPY,
    "XA": Modality.ANGIOGRAPHY,
    "MG": Modality.MAMMOGRAPHY,
}


@dataclass
class StageReport:
    """What the in-request step did: files staged, and each refused file with its reason."""

    staged: int = 0
    rejected: list[read.Rejected] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)
    # (series, text) of free-text descriptors: shown to the author once, never stored (they may carry PHI).
    withheld_descriptions: list[tuple[str, str]] = field(default_factory=list)


def case_keys(case: Case) -> deid.CaseKeys:
    return deid.CaseKeys(uid_secret=bytes(case.deid_secret), date_offset_days=case.date_offset_days)


def ingest_limits() -> read.Limits:
    return read.Limits(max_pixels_per_frame=settings.TEACHINGFILE_MAX_IMAGE_PIXELS)


def ingest_upload(*, case: Case, uploads: list, user) -> tuple[IngestJob, StageReport]:
    """Stage an author's uploaded files and queue their rendering."""
    from .tasks import ingest_job

    job = IngestJob.objects.create(case=case, created_by=user)
    limits = ingest_limits()
    sources = (
        item for upload in uploads for item in read.sources_from_bytes(upload.name, upload.read(), limits=limits)
    )
    report = ingest_stage(job=job, sources=sources)
    transaction.on_commit(lambda: ingest_job.enqueue(token=str(job.token)))
    return job, report


def ingest_stage(*, job: IngestJob, sources: Iterable[read.Source | read.Rejected]) -> StageReport:
    """Read and de-identify every source in memory; stage the de-identified objects for the job."""
    report = StageReport()
    keys = case_keys(job.case)
    limits = ingest_limits()
    for source in sources:
        if isinstance(source, read.Rejected):
            report.rejected.append(source)
            continue
        try:
            dataset = read.read_dataset(source, limits=limits)
            cleaned = deid.deidentify(dataset, keys=keys)
        except (read.UnreadableFile, deid.DeidentificationError) as error:
            report.rejected.append(read.Rejected(name=source.name, reason=str(error)))
            continue
        buffer = io.BytesIO()
        cleaned.dataset.save_as(buffer, enforce_file_format=True)
        default_storage.save(_staging_name(job, report.staged), ContentFile(buffer.getvalue()))
        report.staged += 1
        report.actions.update(cleaned.actions)
        _note_descriptions(report, cleaned)
    for rejected in report.rejected:
        # The reason only: file names may carry PHI.
        logger.warning("DICOM import %s refused a file: %s", job.token, rejected.reason)
    job.total = report.staged
    job.report = {
        "rejected_count": len(report.rejected),
        "rejected_reasons": dict(Counter(rejected.reason for rejected in report.rejected)),
    }
    job.save(update_fields=["total", "report"])
    return report


def _note_descriptions(report: StageReport, cleaned: deid.Deidentified) -> None:
    dataset = cleaned.dataset
    series = f"series {dataset.get('SeriesNumber', '?')} ({dataset.get('Modality', '?')})"
    for keyword in ("SeriesDescription", "StudyDescription", "ProtocolName"):
        text = cleaned.held_descriptors.get(keyword)
        if text and (series, text) not in report.withheld_descriptions:
            report.withheld_descriptions.append((series, text))


def _staging_name(job: IngestJob, index: int) -> str:
    return f"staging/{job.token}/{index:06d}.dcm"


def ingest_run(*, job: IngestJob, progress: Callable[[int, int], None] | None = None) -> IngestJob:
    """Group the staged objects into stages of the case and render their frames."""
    job.status = IngestJob.Status.RUNNING
    job.save(update_fields=["status"])
    staged = [_staging_name(job, index) for index in range(job.total)]
    try:
        headers = {}
        for name in staged:
            with default_storage.open(name) as handle:
                dataset = pydicom.dcmread(handle, stop_before_pixels=True)
            headers[name] = dataset
            dataset.staging_name = name
        groups = group.group_series(headers.values())
        first_day = _first_study_day(groups)
        series_reports = []
        for series_group in groups:
            series_reports.append(_ingest_group(job, series_group, first_day, progress))
        job.report = {**job.report, "series": series_reports}
        job.status = IngestJob.Status.DONE
    except Exception as error:
        logger.exception("DICOM import %s failed", job.token)
        job.report = {**job.report, "error": f"The import stopped: {error}"}
        job.status = IngestJob.Status.FAILED
    finally:
        for name in staged:
            default_storage.delete(name)
    job.finished = timezone.now()
    job.save(update_fields=["status", "report", "finished", "processed"])
    return job


def _first_study_day(groups: list[group.SeriesGroup]):
    dates = [_study_date(series_group) for series_group in groups]
    dates = [day for day in dates if day is not None]
    return min(dates) if dates else None


def _study_date(series_group: group.SeriesGroup):
    first = series_group.instances[0]
    value = first.get("SeriesDate") or first.get("StudyDate") or first.get("AcquisitionDate") or ""
    try:
        return pydicom.valuerep.DA(value) if value else None
    except ValueError:
        return None


def _ingest_group(job, series_group, first_day, progress) -> dict:
    """Create (or extend) one stage from a series group; all or nothing for that stage."""
    written: list[str] = []
    images = 0
    try:
        with transaction.atomic():
            series = _series_for(job.case, series_group, first_day)
            next_order = (series.images.aggregate(highest=Max("order"))["highest"] or 0) + 1
            for header in series_group.instances:
                with default_storage.open(header.staging_name) as handle:
                    data = handle.read()
                dicom_name = default_storage.save(f"dicom/{uuid.uuid4().hex}.dcm", ContentFile(data))
                written.append(dicom_name)
                dataset = pydicom.dcmread(io.BytesIO(data))
                held = deid.burned_in_risk(dataset)
                # Nuclear medicine reads black on white, as on the reporting workstation.
                frames = render.render_dataset(dataset, invert=series.modality == Modality.NM)
                for frame_number, frame in enumerate(frames, start=1):
                    image = _image_from_frame(series, frame, next_order, dicom_name, dataset, frame_number, held)
                    written += [image.file.name, image.thumbnail.name]
                    next_order += 1
                    images += 1
                job.processed += 1
                IngestJob.objects.filter(pk=job.pk).update(processed=job.processed)
                if progress:
                    progress(job.processed, job.total)
    except Exception:
        for name in written:
            default_storage.delete(name)
        raise
    return {"label": series.label, "files": len(series_group.instances), "images": images, "series": series.pk}


def _series_for(case: Case, series_group: group.SeriesGroup, first_day) -> Series:
    """Find the stage this series was imported into before, or create it, unconfirmed."""
    existing = Series.objects.filter(case=case, series_uid=series_group.series_uid).first()
    if existing:
        return existing
    day = _study_date(series_group)
    highest = case.series.aggregate(highest=Max("order"))["highest"] or 0
    return Series.objects.create(
        case=case,
        order=highest + 1,
        modality=DICOM_MODALITIES.get(series_group.modality, Modality.OTHER),
        phase=series_group.phase if series_group.phase in Phase.values else "",
        plane=series_group.plane if series_group.plane in Plane.values else "",
        sequence=series_group.sequence[:60],
        technique=series_group.technique[:300],
        body_part=series_group.body_part[:64],
        series_uid=series_group.series_uid,
        study_day=(day - first_day).days if day is not None and first_day is not None else None,
        label_confirmed=False,
    )


def _image_from_frame(series, frame, order, dicom_name, dataset, frame_number, held) -> Image:
    image = Image(
        series=series,
        order=order,
        dicom_file=dicom_name,
        frame_number=frame_number,
        instance_uid=str(dataset.get("SOPInstanceUID", "")),
        slice_position_mm=None,
        window_center=frame.window.center if frame.window else None,
        window_width=frame.window.width if frame.window else None,
        pixel_spacing_mm=frame.pixel_spacing_mm,
        held_for_review=held,
    )
    image.file.save(f"image{frame.web_suffix}", ContentFile(frame.web), save=False)
    image.thumbnail.save("image.jpg", ContentFile(frame.thumbnail), save=False)
    image.width, image.height = frame.width, frame.height
    image.save()
    return image
