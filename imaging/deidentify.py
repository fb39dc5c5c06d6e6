"""De-identify DICOM data sets in memory, following DICOM PS3.15 Annex E.

The Basic Application Level Confidentiality Profile (PS3.15 E.1, Table E.1-1),
with the options a teaching file needs:

- Retain Patient Characteristics (E.3.7): age, sex, size, weight, sex neutered
  and pregnancy status stay.
- Retain Longitudinal Temporal Information with Modified Dates (E.3.6): every
  date and date-time, at any depth, is shifted by a per-case offset; times stay.
- Clean Descriptors (E.3.5): free-text descriptors are removed from the data set
  and handed back for the author to review.

UIDs are replaced consistently within a case (the Retain UIDs option is not
used). Private attributes, overlay and curve groups are removed. Table E.1-1
itself is read from the 2026c action lists that the ``dicom-anonymizer``
package ships as data; the walker, the options and the checks are ours.

Nothing is written to disk or logged; errors name tags, never values.

References
----------
DICOM PS3.15 2026c, Annex E "Attribute Confidentiality Profiles",
https://dicom.nema.org/medical/dicom/2026c/output/chtml/part15/chapter_E.html
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydicom.datadict import (
    dictionary_has_tag,
    dictionary_VR,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

from .burned_in import burned_in_risk
from .deid_rules import (
    _DICOM_UID_ROOT,
    _FILE_META_KEPT,
    _KEEP,
    _UID_KEPT,
    DEIDENTIFICATION_CODES,
    DEIDENTIFICATION_METHOD,
    _Rule,
    _rule_for,
)
from .deid_values import CaseKeys, DeidentificationError, _dummy_value, _malformed, new_uid, shift_date
from .withheld import quiet_pydicom

__all__ = [
    "CaseKeys",
    "DeidentificationError",
    "Deidentified",
    "burned_in_risk",
    "deidentify",
    "new_uid",
    "shift_date",
]


@dataclass
class Deidentified:
    """What `deidentify` returns.

    Attributes
    ----------
    dataset : Dataset
        The cleaned data set (the one passed in, modified in place).
    held_descriptors : dict of str to str
        Clean Descriptors option: non-empty free-text descriptors removed from
        the data set, keyed by keyword, for the author to confirm or edit.
    burned_in_risk : bool
        Whether the image is held for burned-in text by its header alone
        (`burned_in.burned_in_risk`; radiographs are checked in their pixels
        when rendered).
    actions : Counter
        How many elements each action touched, for the ingest report.
    """

    dataset: Dataset
    held_descriptors: dict[str, str]
    burned_in_risk: bool
    actions: Counter[str]


@dataclass
class _Walk:
    keys: CaseKeys
    actions: Counter[str] = field(default_factory=Counter)
    held: dict[str, str] = field(default_factory=dict)
    path: list[BaseTag] = field(default_factory=list)

    def where(self) -> str:
        return " > ".join(f"({tag.group:04X},{tag.element:04X})" for tag in self.path) or "the data set"


def deidentify(ds: Dataset, *, keys: CaseKeys) -> Deidentified:
    """De-identify `ds` in place and return it with what was held back and done.

    Applies the Basic Application Level Confidentiality Profile with the Retain
    Patient Characteristics, Retain Longitudinal Temporal Information with
    Modified Dates and Clean Descriptors options to every element of the data
    set and of every item of every sequence, at any depth:

    - Table E.1-1 (2026c) attributes get the action in `attribute_table`;
      where the standard allows a choice (X/Z, X/D, X/Z/D, X/Z/U*) they are
      removed, Z/D become zero-length, U and UIDs under D are replaced with
      `new_uid`, D gets a dummy of its VR (an empty sequence for SQ).
    - Every DA and DT value is shifted by ``keys.date_offset_days``, but for
      those the Modified Dates option does not list: Patient's Birth Date is
      emptied, Patient's Birth Time and GPS Time Stamp removed; times are kept.
    - Private attributes, overlay groups (60xx), curve groups (50xx), group
      lengths, public attributes unknown to the dictionary and person names
      outside the table are removed; other UIDs outside the table are replaced
      unless they name a class, syntax or code system.
    - File Meta: Media Storage SOP Instance UID follows SOP Instance UID;
      only the elements PS3.10 requires are kept. The preamble is zeroed.
    - Patient Identity Removed, De-identification Method (and its code
      sequence) and Longitudinal Temporal Information Modified are set;
      Patient's Name and Patient ID are empty.

    Parameters
    ----------
    ds : Dataset
        The data set as read; it is modified in place.
    keys : CaseKeys
        The case's secrets.

    Returns
    -------
    Deidentified

    Raises
    ------
    DeidentificationError
        If an element cannot be processed; the message names its tag path only.

    References
    ----------
    DICOM PS3.15 E.1 and Table E.1-1; E.3.5 Clean Descriptors Option; E.3.6
    Retain Longitudinal Temporal Information Options; E.3.7 Retain Patient
    Characteristics Option; E.1.1 (private attributes, de-identification
    attributes).
    """
    if not isinstance(keys, CaseKeys):
        raise DeidentificationError("keys must be CaseKeys")
    walk = _Walk(keys=keys)
    try:
        with quiet_pydicom():
            risk = burned_in_risk(ds)
            _clean(ds, walk, depth=0)
            walk.path.clear()
            _clean_file_meta(ds, walk)
    except DeidentificationError:
        raise
    except Exception as exc:  # re-raised without the message, which may quote a value (PHI)
        raise DeidentificationError(f"cannot de-identify {walk.where()}: {type(exc).__name__}") from None
    if getattr(ds, "preamble", None) and any(ds.preamble):
        ds.preamble = b"\x00" * 128
        walk.actions["X preamble"] += 1
    _mark(ds)
    return Deidentified(dataset=ds, held_descriptors=walk.held, burned_in_risk=risk, actions=walk.actions)


def _resolved_vr(elem: DataElement | RawDataElement) -> str:
    vr = elem.VR
    if (not vr or vr == "UN") and dictionary_has_tag(elem.tag):
        vr = dictionary_VR(elem.tag)
    return (vr or "UN").split(" or ")[0]


def _clean(ds: Dataset, walk: _Walk, depth: int) -> None:
    for tag in list(ds.keys()):
        walk.path.append(tag)
        vr = _resolved_vr(ds.get_item(tag))
        rule = _rule_for(int(tag), vr)
        if rule.action == "K" and _malformed(ds.get_item(tag), vr):
            # A value its VR does not allow is not what the attribute holds: it may be anything (an MRN), so it goes.
            ds[tag].value = ""
            walk.actions["Z malformed value"] += 1
            walk.path.pop()
            continue
        if rule.action == "K" and vr != "SQ":
            # Kept as read: never parsed, so written back byte for byte (and in half the time).
            if rule not in (_KEEP, _UID_KEPT):
                walk.actions[rule.counter_key] += 1
            walk.path.pop()
            continue
        if rule.action == "X":
            del ds[tag]  # before conversion: removed values are never parsed
            walk.actions[rule.counter_key] += 1
            walk.path.pop()
            continue
        elem = ds[tag]
        if elem.VR == "UN" and rule.action != "K":
            del ds[tag]  # an unparsed value cannot be changed safely, only dropped
            walk.actions["X unparsed"] += 1
            walk.path.pop()
            continue
        if rule.action == "Z":
            elem.value = elem.empty_value
        elif rule.action == "D":
            _dummy(elem)
        elif rule.action == "U":
            _replace_uids(elem, walk)
        elif rule.action == "shift":
            _shift(elem, walk)
        elif rule.action == "held":
            _hold(ds, elem, rule, walk, depth)
        if rule not in (_KEEP, _UID_KEPT):
            walk.actions[rule.counter_key] += 1
        if tag in ds and elem.VR == "SQ":
            for item in elem.value:
                _clean(item, walk, depth + 1)
        walk.path.pop()


def _dummy(elem: DataElement) -> None:
    dummy = _dummy_value(_resolved_vr(elem))
    elem.value = elem.empty_value if dummy is None else dummy


def _values(elem: DataElement) -> list[Any]:
    if elem.value is None:
        return []
    if isinstance(elem.value, MultiValue | list | tuple):
        return list(elem.value)
    return [elem.value]


def _replace_uids(elem: DataElement, walk: _Walk) -> None:
    values = [
        value if str(value).startswith(_DICOM_UID_ROOT) else new_uid(value, keys=walk.keys) for value in _values(elem)
    ]
    elem.value = values if elem.VM > 1 else (values[0] if values else "")


def _shift(elem: DataElement, walk: _Walk) -> None:
    vr = _resolved_vr(elem)
    shifted = []
    for value in _values(elem):
        text = "" if value is None else str(value)
        moved = shift_date(text, vr, days=walk.keys.date_offset_days)
        if text.strip(" \x00") and not moved:
            walk.actions["malformed date"] += 1
        shifted.append(moved)
    shifted = [value for value in shifted if value] or [""]
    elem.value = shifted if len(shifted) > 1 else shifted[0]


def _hold(ds: Dataset, elem: DataElement, rule: _Rule, walk: _Walk, depth: int) -> None:
    text = "\\".join(str(value) for value in _values(elem) if value is not None).strip(" \x00")
    keyword = elem.keyword
    if text and (depth == 0 or keyword not in walk.held):
        walk.held[keyword] = text
    if "X" in rule.basic:
        del ds[elem.tag]
    else:
        elem.value = elem.empty_value


def _clean_file_meta(ds: Dataset, walk: _Walk) -> None:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return
    for tag in list(meta.keys()):
        if int(tag) not in _FILE_META_KEPT:
            del meta[tag]
            walk.actions["X file meta"] += 1
    if "MediaStorageSOPInstanceUID" in meta:
        walk.path[:] = [Tag(0x00020003)]
        if "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        else:
            _replace_uids(meta["MediaStorageSOPInstanceUID"], walk)
        walk.actions["U"] += 1


def _mark(ds: Dataset) -> None:
    ds.PatientName = ""
    ds.PatientID = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = list(DEIDENTIFICATION_METHOD)
    codes = []
    for value, meaning in DEIDENTIFICATION_CODES:
        code = Dataset()
        code.CodeValue = value
        code.CodingSchemeDesignator = "DCM"
        code.CodeMeaning = meaning
        codes.append(code)
    ds.DeidentificationMethodCodeSequence = Sequence(codes)
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
