"""The de-identification step: each candidate read and de-identified in memory (in worker processes), only
the de-identified object written, under ``dicom/<job>/``."""

import io
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import closing

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import transaction

from cases.models import Case
from imaging import deidentify as deid
from imaging import mosaic
from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.sources import FileSource, Rejected, Source
from imaging.write import write_part10

from .frames import frame_files, header_without_pixels, render_object
from .lease import Heartbeat, Progress, claim
from .models import IngestJob
from .outcomes import DESCRIPTORS_SHOWN, REFUSED, FileOutcome, StageReport, note_descriptions, report_files
from .pool import CRASHED, bounded_map
from .spool import ingest_limits
from .storage import discard_files, images_folder, listed, stored_folder

logger = logging.getLogger(__name__)


def case_keys(case: Case) -> deid.CaseKeys:
    return deid.CaseKeys(uid_secret=bytes(case.deid_secret), date_offset_days=case.date_offset_days)


def ingest_stage(
    *,
    job: IngestJob,
    sources: Iterable[tuple[int, Source | FileSource | Rejected]],
    workers: int = 1,
    render_now: bool = False,
    lease: "Heartbeat | None" = None,
) -> StageReport:
    """Read and de-identify every source in memory; store the de-identified objects for the job.

    ``sources`` are (index, source) pairs, the index being the candidate's 1-based place in the upload's
    listing; each stored object is named by it, so a job's report can say what became of each candidate
    even when its process was killed. With ``render_now`` (the command and the upload's task, which render
    straight after) each object is also rendered while it is in memory, sparing a second read.
    """
    report = StageReport()
    keys = case_keys(job.case)
    limits = ingest_limits()
    folder = stored_folder(job)
    job.processed = 0
    tracker = Progress(job, lease.checked(None) if lease is not None else None)

    def candidates():
        for index, source in sources:
            report.names[index] = source.name
            if isinstance(source, Rejected):
                report.refused.append(FileOutcome(index, source.name, REFUSED, source.reason))
                tracker.advance()
            else:
                yield (index, source, keys, limits, folder, images_folder(job), render_now)

    staged = set()
    cleaned = bounded_map(_clean, candidates(), workers=workers, failed=_clean_failed, discard=_discard_cleaned)
    try:
        with closing(cleaned):  # a stop mid-way discards what the workers still had in flight
            for index, stored, reason, held, actions, rendered in cleaned:
                if stored is not None:
                    staged.add(stored)
                if rendered is not None:
                    report.prerendered[stored] = rendered
                tracker.advance()
                if stored is None:
                    report.refused.append(FileOutcome(index, report.names[index], REFUSED, reason))
                    continue
                report.actions.update(actions)
                note_descriptions(report, held)
        _to_render_phase(job, report=report, staged=staged, folder=folder)
    except Exception:
        # What this run stored is nobody's now: the caller closes the job, or another run owns it.
        discard_files([*staged, *prerendered_files(report.prerendered)])
        raise
    for refused in report.rejected:
        # The reason only: file names may carry PHI.
        logger.warning("DICOM import %s refused a file: %s", job.token, refused.reason)
    return report


@transaction.atomic
def _to_render_phase(job: IngestJob, *, report: StageReport, staged: set[str], folder: str) -> None:
    """Leave the de-identification phase: only the staged objects remain, and the job goes on to render them."""
    # A worker that died mid-file may have stored its object before dying: only what was staged is
    # rendered. Checked first, in one transaction with the deletion: the claim holds the job's row until the
    # commit, so the lease check cannot take the job over (and a next run store objects) between the two.
    claim(job)
    discard_files(set(listed(folder)) - staged)
    job.total = len(staged)
    job.phase = IngestJob.Phase.RENDER
    job.processed = 0
    report_files(job, {outcome.index: (REFUSED, outcome.reason) for outcome in report.refused})
    claim(job, phase=job.phase, total=job.total, processed=0, report=job.report)


def clean_one(*, index: int, source: Source, keys: deid.CaseKeys, folder: str) -> tuple[str | None, str]:
    """Read, de-identify and store one object in this process, as an upload's worker does (the DICOM receiver).

    Returns the stored name (beginning with ``index``) or None, and the reason it was refused.
    """
    _, stored, reason, _, _, _ = _clean((index, source, keys, ingest_limits(), folder, "", False))
    return stored, reason


def prerendered_files(prerendered: dict[str, tuple]) -> list[str]:
    return [name for _, rendered, _ in prerendered.values() if rendered is not None for name in frame_files(rendered)]


def _clean(task: tuple[int, Source | FileSource, deid.CaseKeys, Limits, str, str, bool]):
    """Read, de-identify, store (and maybe render) one source in a worker.

    Returns (index, stored name or None, reason, held descriptors, actions, rendered or None); the stored name
    begins with the index, so the task that renders it later knows which file of the upload it came from.
    """
    index, source, keys, limits, folder, images, render_now = task
    try:
        dataset = read_dataset(source, limits=limits)
        mosaic.split_mosaic(dataset)  # before de-identification removes the private header that describes it
        cleaned = deid.deidentify(dataset, keys=keys)
    except (UnreadableFile, deid.DeidentificationError) as error:
        return index, None, str(error), {}, Counter(), None
    except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
        logger.warning("Unexpected %s while reading a DICOM file", type(error).__name__)
        return index, None, "damaged DICOM file", {}, Counter(), None
    try:
        header = header_without_pixels(dataset) if render_now else None
        stored = _store(cleaned.dataset, f"{folder}/{index:06d}-{uuid.uuid4().hex}.dcm")
    except _WriteError as error:
        logger.warning("Unexpected %s while writing a de-identified file", type(error.__cause__).__name__)
        return index, None, "damaged DICOM file", {}, Counter(), None
    series = f"series {dataset.get('SeriesNumber', '?')} ({dataset.get('Modality', '?')})"
    held = {(series, cleaned.held_descriptors[key]) for key in DESCRIPTORS_SHOWN if key in cleaned.held_descriptors}
    rendered = None
    if render_now:
        result, reason = render_object(dataset, invert=str(dataset.get("Modality", "")) == "NM", folder=images)
        rendered = (header, result, reason)
    return index, stored, "", held, cleaned.actions, rendered


# A de-identified object whose pixel data is no larger is written into memory and saved from there: cheaper
# than creating, filling and renaming a temporary file (a CT slice: 0.5 against 0.7-0.9 ms on a quiet disk).
# A larger one goes through a temporary file, which the file-system storage moves into place, so that a worker
# never holds a third copy of a large object (docs/decisions.md, "Junk refused early, uploads streamed").
IN_MEMORY_PIXEL_BYTES = 16 * 1024 * 1024
_PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)  # Float Pixel Data, Double Float Pixel Data, Pixel Data


class _WriteError(Exception):
    """The de-identified object could not be encoded (the cause's text is never shown: it may quote a value)."""


def _store(dataset, name: str) -> str:
    """Write the de-identified dataset as a Part 10 file under ``name`` in the storage; return the stored name."""
    if _pixel_bytes(dataset) <= IN_MEMORY_PIXEL_BYTES:
        buffer = io.BytesIO()
        try:
            write_part10(dataset, buffer)  # as pydicom's save_as, the kept elements copied
        except Exception as error:
            raise _WriteError from error
        buffer.seek(0)
        return default_storage.save(name, File(buffer))
    with TemporaryUploadedFile("object.dcm", "application/dicom", 0, None) as temporary:
        try:
            write_part10(dataset, temporary.file)
        except Exception as error:
            raise _WriteError from error
        temporary.size = temporary.file.tell()
        temporary.file.flush()
        temporary.seek(0)
        return default_storage.save(name, temporary)


def _pixel_bytes(dataset) -> int:
    """Return the size of the dataset's pixel data (what makes an object large); unknown counts as large."""
    total = 0
    for tag in _PIXEL_TAGS:
        if tag in dataset:
            value = dataset.get_item(tag).value
            if not isinstance(value, bytes):
                return 2**63
            total += len(value)
    return total


def _clean_failed(task: tuple, problem: str) -> tuple:
    """The result of a file whose worker raised, returned something unsendable, or died."""
    reason = "the file crashed the process reading it" if problem == CRASHED else "damaged DICOM file"
    return task[0], None, reason, {}, Counter(), None


def _discard_cleaned(result: tuple) -> None:
    """Delete what ``_clean`` stored when its result cannot be sent back."""
    discard_files([result[1] or ""])
    if result[5] is not None and result[5][1] is not None:
        discard_files(frame_files(result[5][1]))
