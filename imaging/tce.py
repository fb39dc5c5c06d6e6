"""The teaching-file selection a PACS sends: an IHE TCE Key Object Selection document read as the list of images
the radiologist flagged, with its coded options.

IHE Teaching File and Clinical Trial Export (TCE) has the radiologist's workstation send, with the images, a Key
Object Selection (KOS) document whose title (its Concept Name) is (128710, DCM, "For Teaching File Export") from
CID 7010. The document lists the flagged instances in its Current Requested Procedure Evidence Sequence (and as
IMAGE content items); a Document Title Modifier (113011, DCM) may ask to delay the export for a reason from CID
7015 ("Delay export until final report is available", …). Its free text (Key Object Description) may name the
patient and is never read.

References
----------
DICOM PS3.3 A.35.4 (Key Object Selection Document IOD), PS3.16 TID 2010 (Key Object Selection), CID 7010 (Key
Object Selection Document Title), CID 7015 (Teaching File and Clinical Trial Export Delay Reasons), CID 7016
(Teaching File Level), CID 7017 (Teaching File Subject Matter); IHE Radiology TF-1 TCE.
"""

from dataclasses import dataclass, field

from pydicom.dataset import Dataset

KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
TEACHING_FILE_EXPORT = ("128710", "DCM")  # "For Teaching File Export", CID 7010 and 7014
DOCUMENT_TITLE_MODIFIER = ("113011", "DCM")

#: The coded options recorded in the import report: the code's meaning as the standard gives it (never the
#: meaning the sending device wrote, which is free text).
DELAY_REASONS = {  # CID 7015
    "128715": "Delay export until final report is available",
    "128716": "Delay export until clinical information is available",
    "128717": "Delay export until confirmation of diagnosis is available",
    "128718": "Delay export until histopathology is available",
    "128719": "Delay export until other laboratory results are available",
    "128720": "Delay export until patient is discharged",
    "128721": "Delay export until patient dies",
    "128722": "Delay export until expert review is available",
}
LEVELS = {"128725": "Primary level", "128726": "Intermediate level", "128727": "Advanced level"}  # CID 7016
_MAX_DEPTH = 8  # TID 2010 nests one level; real documents a few


@dataclass(frozen=True)
class TeachingSelection:
    """What a TCE key object asks for: the flagged SOP Instance UIDs and the coded options it carries."""

    instance_uids: frozenset[str]
    delays: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    other_options: tuple[str, ...] = field(default=())


def _code(item: Dataset, keyword: str = "ConceptNameCodeSequence") -> tuple[str, str] | None:
    """Return the (value, scheme) of an item's first code in ``keyword``, or None."""
    codes = item.get(keyword)
    if not codes:
        return None
    first = codes[0]
    return str(first.get("CodeValue", "")).strip(), str(first.get("CodingSchemeDesignator", "")).strip()


def is_teaching_selection(dataset: Dataset) -> bool:
    """Whether the dataset is a Key Object Selection document titled "For Teaching File Export"."""
    return str(dataset.get("SOPClassUID", "")) == KEY_OBJECT_SELECTION and _code(dataset) == TEACHING_FILE_EXPORT


def teaching_selection(dataset: Dataset) -> TeachingSelection | None:
    """Return the selection a TCE key object makes, or None when the dataset is no such document.

    Parameters
    ----------
    dataset : pydicom.dataset.Dataset
        A received object, before de-identification: the UIDs it references are the sender's own, to be matched
        against the originals of the objects received with it.

    Returns
    -------
    TeachingSelection or None
        The referenced SOP Instance UIDs from the evidence sequence and the IMAGE items, and the coded options
        (delay reasons, level) of its Document Title Modifiers and other coded items, by the standard's meanings.
    """
    if not is_teaching_selection(dataset):
        return None
    uids: set[str] = set()
    for study in dataset.get("CurrentRequestedProcedureEvidenceSequence") or []:
        for series in study.get("ReferencedSeriesSequence") or []:
            uids.update(_referenced(series))
    delays: list[str] = []
    levels: list[str] = []
    others: list[str] = []
    _walk(dataset.get("ContentSequence") or [], uids, delays, levels, others, depth=0)
    return TeachingSelection(
        instance_uids=frozenset(uids), delays=tuple(delays), levels=tuple(levels), other_options=tuple(others)
    )


def _referenced(item: Dataset) -> set[str]:
    return {
        str(reference.get("ReferencedSOPInstanceUID", "")).strip()
        for reference in item.get("ReferencedSOPSequence") or []
        if reference.get("ReferencedSOPInstanceUID")
    }


def _walk(items, uids: set[str], delays: list[str], levels: list[str], others: list[str], *, depth: int) -> None:
    """Collect IMAGE references and coded options from the content tree (TID 2010)."""
    if depth > _MAX_DEPTH:
        return
    for item in items:
        value_type = str(item.get("ValueType", "")).strip()
        if value_type in ("IMAGE", "COMPOSITE"):
            uids.update(_referenced(item))
        elif value_type == "CODE":
            _note_option(item, delays, levels, others)
        _walk(item.get("ContentSequence") or [], uids, delays, levels, others, depth=depth + 1)


def _note_option(item: Dataset, delays: list[str], levels: list[str], others: list[str]) -> None:
    """Note a coded item by the standard's meaning of its code; an unknown title modifier by its code alone."""
    code = _code(item, "ConceptCodeSequence")
    if code is None or code[1] != "DCM":
        return
    if code[0] in DELAY_REASONS:
        delays.append(DELAY_REASONS[code[0]])
    elif code[0] in LEVELS:
        levels.append(LEVELS[code[0]])
    elif _code(item) == DOCUMENT_TITLE_MODIFIER and code[0].isdigit():
        others.append(f"(DCM {code[0]})")
