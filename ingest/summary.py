"""An import's report in a radiologist's words: which images became which stage, which files were not images
and what they were, what was held and why — each said once, with counts, and no de-identification jargon (the
file-by-file outcomes stay for a collapsed list and the operator's log)."""

import re
from collections import Counter

from django.template.defaultfilters import pluralize

from .models import IngestJob
from .outcomes import ALREADY_IMPORTED, DUPLICATE, NOT_RENDERED, REFUSED

# What an object without pixels is, in the words a radiologist uses, from its refusal reason.
_NOT_IMAGE = re.compile(r"^no pixel data(?: \((?P<kind>.+)\))?$")
_KIND_WORDS = (
    ("structured report", "a structured report"),
    ("Encapsulated PDF", "a PDF document (a report or request)"),
    ("Encapsulated CDA", "a clinical document"),
    ("Dose", "a dose report"),
    ("Key Object Selection", "a key-image note"),
    ("Presentation State", "a presentation state (display settings)"),
    ("Raw Data", "raw scanner data"),
    ("RT ", "a radiotherapy object"),
    ("Waveform", "a waveform (ECG or similar)"),
    ("ECG", "a waveform (ECG or similar)"),
)
NOT_DICOM = "not a DICOM file"


def _not_image_kind(reason: str) -> str | None:
    """Return what a file that is not an image was (e.g. "a structured report"), or None if it may be one."""
    if reason == NOT_DICOM:
        return "a file that is not DICOM"
    if reason.startswith("segmentation object"):
        return "a segmentation (a mask drawn on other images)"
    found = _NOT_IMAGE.match(reason)
    if not found:
        return None
    kind = found["kind"] or ""
    for marker, words in _KIND_WORDS:
        if marker.lower() in kind.lower():
            return words
    return f"a {kind.removesuffix(' Storage').lower()} object" if kind else "an object without an image"


def _counted(kinds: Counter) -> str:
    """Say "a structured report, 2 × a PDF document" from a count of kinds, most frequent first."""
    return ", ".join(kind if count == 1 else f"{count} × {kind}" for kind, count in kinds.most_common())


def _stage_sentence(item: dict, number: int | None) -> str:
    modality, *details = item["label"].split(" · ")
    modality = modality if modality.isupper() else modality.lower()
    images, files = item["images"], item["files"]
    made = f"{images} {modality} image{pluralize(images)}"
    if files != images:
        made += f" (from {files} file{pluralize(files)})"
    stage = f"stage {number}" if number else "a stage"
    described = f" ({', '.join(details)})" if details else ""
    return f"{made} became {stage}{described}."


def import_summary(*, job: IngestJob, stage_numbers: dict[int, int]) -> list[str]:
    """Return the sentences that tell an author what an import did, e.g. "64 CT images became stage 2 (Axial)."

    ``stage_numbers`` maps a stage's id to its place in the case now (stages deleted since are "a stage").
    """
    report = job.report or {}
    sentences = [_stage_sentence(item, stage_numbers.get(item["series"])) for item in report.get("series", [])]
    files = report.get("files", [])
    not_images = Counter(
        kind for _, outcome, reason in files if outcome == REFUSED and (kind := _not_image_kind(reason))
    )
    if not_images:
        count = sum(not_images.values())
        not_what = "was not an image" if count == 1 else "were not images"
        sentences.append(f"{count} file{pluralize(count)} {not_what} ({_counted(not_images)}).")
    unusable = Counter(reason for _, outcome, reason in files if outcome == REFUSED and _not_image_kind(reason) is None)
    if unusable:
        count = sum(unusable.values())
        sentences.append(f"{count} file{pluralize(count)} could not be used ({_counted(unusable)}).")
    unshown = Counter(reason for _, outcome, reason in files if outcome == NOT_RENDERED)
    if unshown:
        count = sum(unshown.values())
        shown = "an image" if count == 1 else "images"
        sentences.append(f"{count} file{pluralize(count)} could not be shown as {shown} ({_counted(unshown)}).")
    sentences += _repeats(files)
    held = sum(item.get("held", 0) for item in report.get("series", []))
    if held:
        sentences.append(f"{held} image{pluralize(held)} held: burned-in text suspected. Check before publishing.")
    if report.get("error"):
        sentences.append(report["error"])
    if job.status == IngestJob.Status.DONE and not files and not report.get("series"):
        sentences.append("No files were found in the upload.")
    return sentences


def _repeats(files: list) -> list[str]:
    outcomes = Counter(outcome for _, outcome, _ in files)
    sentences = []
    if outcomes[DUPLICATE]:
        count = outcomes[DUPLICATE]
        sentences.append(
            f"{count} file{pluralize(count)} repeated another in the upload and {pluralize(count, 'was,were')} skipped."
        )
    if outcomes[ALREADY_IMPORTED]:
        count = outcomes[ALREADY_IMPORTED]
        sentences.append(f"{count} file{pluralize(count)} {pluralize(count, 'was,were')} in the case already.")
    return sentences


def case_stage_numbers(case) -> dict[int, int]:
    """Return each stage's place in the case (1, 2, …) by its id, as the case page numbers them (one query)."""
    stages = case.series.order_by("order", "pk").values_list("pk", flat=True)
    return {pk: number for number, pk in enumerate(stages, start=1)}
