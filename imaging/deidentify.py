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

import hashlib
import hmac
import inspect
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as table_e1_1
from pydicom.charset import python_encoding
from pydicom.datadict import (
    dictionary_description,
    dictionary_has_tag,
    dictionary_keyword,
    dictionary_VR,
    tag_for_keyword,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

from .burned_in import burned_in_risk
from .withheld import quiet_pydicom

__all__ = [
    "CaseKeys",
    "DeidentificationError",
    "Deidentified",
    "TableRow",
    "attribute_table",
    "burned_in_risk",
    "deidentify",
    "new_uid",
    "shift_date",
]

#: Edition of PS3.15 whose Table E.1-1 drives the profile.
TABLE_EDITION = "2026c"

#: Table E.1-1 as action lists, keyed by the Basic Profile action the standard gives.
_ACTION_LISTS: dict[str, list[tuple[int, ...]]] = {
    "D": table_e1_1.D_TAGS,
    "Z": table_e1_1.Z_TAGS,
    "X": table_e1_1.X_TAGS,
    "U": table_e1_1.U_TAGS,
    "Z/D": table_e1_1.Z_D_TAGS,
    "X/Z": table_e1_1.X_Z_TAGS,
    "X/D": table_e1_1.X_D_TAGS,
    "X/Z/D": table_e1_1.X_Z_D_TAGS,
    "X/Z/U*": table_e1_1.X_Z_U_STAR_TAGS,
}

#: Basic Profile action of every attribute of Table E.1-1 named by an exact tag.
#: The three masked entries (curve data, overlay data and comments) are covered
#: by removing their whole groups.
_BASIC: dict[int, str] = {
    (entry[0] << 16) | entry[1]: action
    for action, entries in _ACTION_LISTS.items()
    for entry in entries
    if len(entry) == 2
}

#: Retain Patient Characteristics option (E.3.7): the attributes we keep. A
#: deliberately small list; the standard's others (allergies, medical alerts,
#: occupation, smoking status, ethnic group...) are removed.
PATIENT_CHARACTERISTICS = frozenset(
    {"PatientAge", "PatientSex", "PatientSize", "PatientWeight", "PatientSexNeutered", "PregnancyStatus"}
)

#: Clean Descriptors option (E.3.5): free-text descriptors taken out of the data
#: set and returned for the author to confirm or edit before they are used.
HELD_DESCRIPTORS = (
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "ImageComments",
    "AcquisitionComments",
    "FrameComments",
    "DerivationDescription",
    "AcquisitionDeviceProcessingDescription",
    "ContrastBolusAgent",
    "PerformedProcedureStepDescription",
    "RequestedProcedureDescription",
    "ScheduledProcedureStepDescription",
    "ReasonForStudy",
    "ReasonForTheRequestedProcedure",
    "AdditionalPatientHistory",
    "AdmittingDiagnosesDescription",
)

#: Dates and times the Modified Dates option (E.3.6) does not list: they get the Basic Profile's action, not a
#: shift (the age stays instead of the birth date).
_NOT_SHIFTED = frozenset({"PatientBirthDate", "PatientBirthTime", "GPSTimeStamp"})

#: Attributes outside Table E.1-1 that we remove too.
_REMOVED_BEYOND_TABLE = {
    "ReferencedFileID": "file-set paths can name the patient (folders named by patient ID)",
    "FileSetID": "a file-set name can name the patient or the site",
}

#: UIDs outside Table E.1-1 that name classes, syntaxes or code systems rather
#: than instances, and therefore stay. Any keyword naming a SOP class or a
#: transfer syntax stays too.
_UID_KEPT_KEYWORDS = frozenset(
    {"CodingSchemeUID", "ContextUID", "MappingResourceUID", "ImplementationClassUID", "PrivateInformationCreatorUID"}
)

#: UIDs under the DICOM root are well-known (classes, syntaxes, palettes...) and
#: never identify a patient, so they are never replaced.
_DICOM_UID_ROOT = "1.2.840.10008."

#: File Meta elements kept; the rest (implementation version, source/sending AE
#: titles, private information) are removed. PS3.10 7.1.
_FILE_META_KEPT = frozenset({0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012})


#: Dummy value for D on text VRs: neutral, valid for every text VR (≤ 16 characters).
DUMMY_TEXT = "ANONYMIZED"
_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_NUMBER_VRS = frozenset({"SL", "SS", "SV", "UL", "US", "UV", "FL", "FD"})
#: Dummy value for D on the other-byte VRs: eight zero bytes, a length every one of them allows.
DUMMY_BYTES = bytes(8)
_BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW"})

DEIDENTIFICATION_METHOD = (
    "PS3.15 Basic Application Level Confidentiality Profile",
    "Retain Patient Characteristics",
    "Retain Longitudinal Temporal Information with Modified Dates",
    "Clean Descriptors",
)

#: CID 7050 codes of the profile and options applied (PS3.16).
DEIDENTIFICATION_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113108", "Retain Patient Characteristics Option"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113105", "Clean Descriptors Option"),
)


class DeidentificationError(ValueError):
    """A data set or key could not be de-identified; the message names tags, never values."""


@dataclass(frozen=True)
class CaseKeys:
    """Per-case secrets: they make UIDs and dates consistent within a case and unlinkable outside it.

    Parameters
    ----------
    uid_secret : bytes
        Random, at least 16 bytes, stored per case by the app.
    date_offset_days : int
        Random per case and never zero, e.g. -3650...-365; all dates of one case shift by it.
    """

    uid_secret: bytes = field(repr=False)
    date_offset_days: int

    def __post_init__(self) -> None:
        if not isinstance(self.uid_secret, bytes) or len(self.uid_secret) < 16:
            raise DeidentificationError("uid_secret must be at least 16 random bytes")
        if isinstance(self.date_offset_days, bool) or not isinstance(self.date_offset_days, int):
            raise DeidentificationError("date_offset_days must be an integer")
        if self.date_offset_days == 0:
            raise DeidentificationError("date_offset_days must not be zero: the dates would not be modified")

    @classmethod
    def generate(cls, *, min_days: int = 365, max_days: int = 3650) -> "CaseKeys":
        """Return new random keys: a 32-byte secret and an offset between -max_days and -min_days."""
        if not 0 < min_days <= max_days:
            raise DeidentificationError("need 0 < min_days <= max_days")
        offset = -(min_days + secrets.randbelow(max_days - min_days + 1))
        return cls(uid_secret=secrets.token_bytes(32), date_offset_days=offset)


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


@dataclass(frozen=True)
class TableRow:
    """One row of the attribute table: Table E.1-1's action and the one we apply.

    ``basic`` is empty for rules of ours beyond Table E.1-1.
    """

    tag: str
    keyword: str
    name: str
    vr: str
    basic: str
    action: str
    reason: str


class _Rule(NamedTuple):
    action: str  # K, X, Z, D, U, shift or held
    reason: str
    basic: str = ""
    label: str = ""  # key in the actions counter when it differs from the action

    @property
    def counter_key(self) -> str:
        return self.label or self.action


_R_SHIFT = "by the case's offset: Retain Longitudinal Temporal Information with Modified Dates option (E.3.6)"
_R_UID = "consistent within the case (the Retain UIDs option is not used)"
_PRIVATE = _Rule("X", "at every depth (the Retain Safe Private option is not used)", label="X private")
_CURVE = _Rule("X", "the whole curve group, at every depth", label="X curve")
_OVERLAY = _Rule("X", "the whole overlay group, labels and bitmaps, at every depth", label="X overlay")
_GROUP_LENGTH = _Rule("X", "the group lengths would be stale", label="X group length")
_UNKNOWN = _Rule("X", "a public attribute unknown to the dictionary cannot be judged", label="X unknown")
_STRAY_META = _Rule("X", "command and File Meta groups do not belong in a stored data set", label="X stray")
_PERSON_NAME = _Rule("X", "person names outside Table E.1-1", label="X person name")
_SHIFT_BEYOND = _Rule("shift", _R_SHIFT)
_UID_BEYOND = _Rule("U", "unless it names a class, syntax or code system, or is a well-known UID under the DICOM root")
_UID_KEPT = _Rule("K", "names a class, syntax or code system, not an instance")
_KEEP = _Rule("K", "not in Table E.1-1")


def _table_rule(keyword: str, vr: str, basic: str) -> _Rule:
    """Return what we do to an attribute of Table E.1-1, given its Basic Profile action."""
    if keyword in PATIENT_CHARACTERISTICS:
        return _Rule("K", "Retain Patient Characteristics option (E.3.7)", basic)
    if vr == "UN":
        return _Rule("X", "a value of VR UN cannot be cleaned", basic)
    if keyword in HELD_DESCRIPTORS:
        if "X" in basic:
            return _Rule("held", "removed, returned for the author to review: Clean Descriptors option (E.3.5)", basic)
        return _Rule(
            "held", "emptied (Type 2), returned for the author to review: Clean Descriptors option (E.3.5)", basic
        )
    if keyword in _NOT_SHIFTED:
        action = "X" if "X" in basic else "Z"
        return _Rule(action, "not shifted: the Modified Dates option (E.3.6) does not list it", basic)
    if vr in ("DA", "DT"):
        return _Rule("shift", _R_SHIFT, basic)
    if vr == "TM":
        return _Rule("K", "times stay beside the shifted dates (E.3.6, Modified Dates)", basic, label="K time")
    if basic == "U" or (vr == "UI" and "X" not in basic):
        return _Rule("U", _R_UID, basic)
    if basic == "X":
        return _Rule("X", "", basic)
    if "X" in basic:
        return _Rule("X", f"the most conservative of {basic}", basic)
    if "Z" in basic:
        return _Rule("Z", "" if basic == "Z" else f"the most conservative of {basic}", basic)
    if vr == "SQ":
        return _Rule("D", "an empty sequence", basic)
    return _Rule("D", _dummy_description(vr), basic)


@lru_cache(maxsize=4096)
def _rule_for(tag: int, vr: str) -> _Rule:
    """Return the rule for one element, wherever it appears; `vr` is its VR, resolved."""
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2:
        return _PRIVATE
    if 0x5000 <= group <= 0x50FF:
        return _CURVE
    if 0x6000 <= group <= 0x60FF:
        return _OVERLAY
    if element == 0:
        return _GROUP_LENGTH
    keyword = dictionary_keyword(tag) if dictionary_has_tag(tag) else ""
    basic = _BASIC.get(tag)
    if basic:
        return _table_rule(keyword, vr, basic)
    if group in (0x0000, 0x0002):
        return _STRAY_META
    if not keyword:
        return _UNKNOWN
    if keyword in _REMOVED_BEYOND_TABLE:
        return _Rule("X", _REMOVED_BEYOND_TABLE[keyword])
    if vr in ("DA", "DT"):
        return _SHIFT_BEYOND
    if vr == "PN":
        return _PERSON_NAME
    if vr == "UI":
        if "SOPClass" in keyword or "TransferSyntax" in keyword or keyword in _UID_KEPT_KEYWORDS:
            return _UID_KEPT
        return _UID_BEYOND
    return _KEEP


def new_uid(original: str, *, keys: CaseKeys) -> str:
    """Return the UID that replaces `original` within the case of `keys`.

    The same original UID always maps to the same new UID under the same case
    secret (so references between instances, series and frames of reference
    survive), and to an unrelated one under another case's secret. The new UID
    is ``2.25.`` followed by the decimal value of a UUID (version 8, RFC 9562)
    built from the HMAC-SHA256 of the original under the case secret: at most
    44 characters, within the 64 the UI VR allows.

    Parameters
    ----------
    original : str
        The UID to replace; surrounding spaces and NUL padding are ignored.
    keys : CaseKeys
        The case's secrets.

    Returns
    -------
    str
        The new UID, or ``""`` for an empty original.

    References
    ----------
    DICOM PS3.15 E.1.1 (U action: replace with a non-zero length UID that is
    internally consistent within a set of Instances); PS3.5 B.2 (UUID-derived
    UIDs under the 2.25 root).
    """
    value = str(original).strip(" \x00")
    if not value:
        return ""
    digest = hmac.new(keys.uid_secret, value.encode("utf-8"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:16], "big")
    number = (number & ~(0xF000 << 64)) | (0x8000 << 64)  # version 8: custom
    number = (number & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 9562 variant
    return f"2.25.{number}"


_DA_PATTERN = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_DT_PATTERN = re.compile(
    r"(?P<year>\d{4})(?:(?P<month>\d{2})(?:(?P<day>\d{2})"
    r"(?P<time>(?P<hour>\d{2})(?:(?P<minute>\d{2})(?:(?P<second>\d{2})(?:\.\d{1,6})?)?)?)?)?)?"
    r"(?P<zone>[+-](?P<zone_hour>\d{2})(?P<zone_minute>\d{2}))?",
    re.ASCII,
)


def shift_date(value: str, vr: str, *, days: int) -> str:
    """Return a DA, DT or TM value moved by `days` days.

    DA ``YYYYMMDD`` and DT ``YYYYMMDDHHMMSS.FFFFFF&ZZXX`` (any precision the
    VR allows) have their date moved; the time of day, fraction and UTC offset
    are kept as written. A DT of year or year-month precision is moved from
    the middle of that period and written back with its own precision. TM
    values are returned unchanged: with the dates modified, times of day no
    longer identify anyone.

    Parameters
    ----------
    value : str
        One value (not a multi-value string); trailing padding is ignored.
    vr : str
        ``"DA"``, ``"DT"`` or ``"TM"``.
    days : int
        The case's offset.

    Returns
    -------
    str
        The shifted value; ``""`` for an empty value and for a malformed one
        (the caller counts those).

    Raises
    ------
    DeidentificationError
        If `vr` is not a date or time VR.

    References
    ----------
    DICOM PS3.15 E.3.6 (Retain Longitudinal Temporal Information with Modified
    Dates Option); PS3.5 6.2 (DA, DT and TM formats).
    """
    if vr not in ("DA", "DT", "TM"):
        raise DeidentificationError(f"shift_date does not handle VR {vr}")
    text = str(value).strip(" \x00")
    if vr == "TM" or not text:
        return text
    try:
        if vr == "DA":
            match = _DA_PATTERN.fullmatch(text)
            if not match:
                return ""
            moved = date(*map(int, match.groups())) + timedelta(days=days)
            return f"{moved:%Y%m%d}"
        return _shift_datetime(text, days)
    except (ValueError, OverflowError):
        return ""


def _shift_datetime(text: str, days: int) -> str:
    match = _DT_PATTERN.fullmatch(text)
    if not match:
        return ""
    parts = match.groupdict()
    hour, minute, second = (int(parts[name] or 0) for name in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 60:  # 60: leap second
        return ""
    if parts["zone"] and (int(parts["zone_hour"]) > 14 or int(parts["zone_minute"]) > 59):
        return ""
    year = int(parts["year"])
    if parts["month"] is None:
        moved = date(year, 7, 2) + timedelta(days=days)
        head = f"{moved.year:04d}"
    elif parts["day"] is None:
        moved = date(year, int(parts["month"]), 15) + timedelta(days=days)
        head = f"{moved.year:04d}{moved.month:02d}"
    else:
        moved = date(year, int(parts["month"]), int(parts["day"])) + timedelta(days=days)
        head = f"{moved:%Y%m%d}"
    return head + (parts["time"] or "") + (parts["zone"] or "")


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


#: What a kept value of these VRs may hold, item by item (PS3.5 6.2); others are kept as read.
_VALUE_PATTERNS = {
    "IS": re.compile(r"[+-]?[0-9]{1,11}"),
    "DS": re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"),
    "CS": re.compile(r"[A-Za-z0-9 _]{1,16}"),  # lower case is invalid too, but common and harmless
    "UI": re.compile(r"[0-9]+(\.[0-9]+)*"),
    "TM": re.compile(r"[0-9]{2}(:?[0-9]{2}(:?[0-9]{2}(\.[0-9]{1,6})?)?)?"),  # the colons: ACR-NEMA's form
    "AS": re.compile(r"[0-9]{3}[DWMY]"),
}
_TEXT_LIKE_VRS = _TEXT_VRS | frozenset(_VALUE_PATTERNS)
_SPECIFIC_CHARACTER_SET = 0x00080005


def _malformed(elem: DataElement | RawDataElement, vr: str) -> bool:
    """Return whether a kept value (raw bytes or parsed) has an item its VR does not allow.

    A number the dictionary gives a binary VR but the file writes as text is
    malformed whatever it says, and a Specific Character Set must name a
    character set pydicom knows: an unknown term is text like any other
    (PS3.3 C.12.1.1.2).
    """
    value = elem.value
    if vr not in _TEXT_LIKE_VRS or value is None:
        return False
    if _binary_number(int(elem.tag)):
        return True
    if vr not in _VALUE_PATTERNS:
        return False
    if isinstance(value, bytes):
        text = value.decode("latin-1")
    elif isinstance(value, MultiValue | list | tuple):
        text = "\\".join(str(item) for item in value)
    else:
        text = str(value)
    items = [item.strip(" \x00") for item in text.split("\\")]
    if elem.tag == _SPECIFIC_CHARACTER_SET:
        return any(item and item not in python_encoding for item in items)
    return any(item and not _VALUE_PATTERNS[vr].fullmatch(item) for item in items)


@lru_cache(maxsize=4096)
def _binary_number(tag: int) -> bool:
    """Return whether the dictionary gives the attribute a binary number VR (US, SS, UL, FL…)."""
    return dictionary_has_tag(tag) and dictionary_VR(tag).split(" or ")[0] in _NUMBER_VRS


def _dummy_value(vr: str) -> Any:
    """Return the dummy for D on `vr` (PS3.15 E.1.1: non-zero length), or None for a zero-length value (SQ, AT)."""
    if vr in _TEXT_VRS or vr == "UR":  # a relative URI reference is a valid UR
        return DUMMY_TEXT
    if vr == "AS":
        return "000D"
    if vr in _BYTES_VRS:
        return DUMMY_BYTES
    if vr in ("DS", "IS"):
        return "0"
    if vr in _NUMBER_VRS:
        return 0
    return None


def _dummy_description(vr: str) -> str:
    dummy = _dummy_value(vr)
    if dummy is None:
        return "a zero-length value"
    return f"{len(dummy)} zero bytes" if isinstance(dummy, bytes) else f"{dummy!r}"


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


def _format_tag(value: int, mask: int = 0xFFFFFFFF) -> str:
    digits = "".join(f"{(value >> shift) & 0xF:X}" if (mask >> shift) & 0xF else "x" for shift in range(28, -4, -4))
    return f"({digits[:4]},{digits[4:]})"


def _source_names() -> dict[tuple[int, ...], str]:
    """Return the attribute names written as comments beside each entry of the 2026c lists."""
    try:
        source = inspect.getsource(table_e1_1)
    except (OSError, TypeError):
        return {}
    entry = re.compile(r"\(\s*(0x[0-9A-Fa-f]{4}(?:\s*,\s*0x[0-9A-Fa-f]{4}){1,3})\s*,?\s*\)\s*,\s*#\s*(.+)")
    return {
        tuple(int(part, 16) for part in match.group(1).split(",")): match.group(2).strip()
        for match in entry.finditer(source)
    }


def _beyond(tag: str, name: str, vr: str, action: str, reason: str, keyword: str = "") -> TableRow:
    return TableRow(tag=tag, keyword=keyword, name=name, vr=vr, basic="", action=action, reason=reason)


_BEYOND_TABLE: tuple[TableRow, ...] = (
    _beyond("(gggg,eeee)", "Private attributes (gggg odd), creators included", "", "X", _PRIVATE.reason),
    _beyond("(60xx,eeee)", "Overlay groups 6000-60FF", "", "X", _OVERLAY.reason),
    _beyond("(50xx,eeee)", "Curve groups 5000-50FF", "", "X", _CURVE.reason),
    _beyond("(gggg,0000)", "Group Length", "UL", "X", _GROUP_LENGTH.reason),
    _beyond("(gggg,eeee)", "Public attributes unknown to the dictionary", "", "X", _UNKNOWN.reason),
    _beyond("(0000,eeee)", "Command group elements in the data set", "", "X", _STRAY_META.reason),
    _beyond("(0002,eeee)", "File Meta elements in the data set itself", "", "X", _STRAY_META.reason),
    _beyond("(gggg,eeee)", "Any person name not in Table E.1-1", "PN", "X", _PERSON_NAME.reason),
    _beyond("(gggg,eeee)", "Any date or date-time not in Table E.1-1", "DA, DT", "shift", _R_SHIFT),
    _beyond("(gggg,eeee)", "Any UID not in Table E.1-1", "UI", "U", _UID_BEYOND.reason),
    _beyond(
        "(gggg,eeee)",
        "Any kept value its VR does not allow (a number that is not one, a binary number written as text, "
        "an unknown Specific Character Set)",
        ", ".join(sorted(_VALUE_PATTERNS)),
        "Z",
        "it is not what the attribute holds and may be anything, an MRN included",
    ),
    *(
        _beyond(
            _format_tag(tag_for_keyword(keyword)),
            dictionary_description(keyword),
            dictionary_VR(keyword),
            "X",
            reason,
            keyword,
        )
        for keyword, reason in _REMOVED_BEYOND_TABLE.items()
    ),
    _beyond("(0002,eeee)", "File Meta elements other than the six PS3.10 requires", "", "X", ""),
    _beyond("preamble", "128-byte file preamble", "", "Z", "128 zero bytes: it can hold another format's header"),
    _beyond("(0012,0062)", "Patient Identity Removed", "CS", "set", "YES", "PatientIdentityRemoved"),
    _beyond(
        "(0012,0063)",
        "De-identification Method",
        "LO",
        "set",
        "values " + "; ".join(f"'{value}'" for value in DEIDENTIFICATION_METHOD),
        "DeidentificationMethod",
    ),
    _beyond(
        "(0012,0064)",
        "De-identification Method Code Sequence",
        "SQ",
        "set",
        ", ".join(f"{value} (DCM) {meaning}" for value, meaning in DEIDENTIFICATION_CODES),
        "DeidentificationMethodCodeSequence",
    ),
    _beyond(
        "(0028,0303)",
        "Longitudinal Temporal Information Modified",
        "CS",
        "set",
        "MODIFIED",
        "LongitudinalTemporalInformationModified",
    ),
)


def attribute_table() -> list[TableRow]:
    """Return every attribute of Table E.1-1 (2026c) with the action we apply, then our rules beyond it.

    The rows are computed by the same rules `deidentify` applies, from the
    action lists of ``dicomanonymizer.dicom_anonymization_databases.dicomfields_2026c``,
    so the documentation cannot drift from the behaviour.

    Returns
    -------
    list of TableRow
        Table E.1-1 rows in tag order (``basic`` set), then our own rules
        (``basic`` empty).

    References
    ----------
    DICOM PS3.15 Table E.1-1.
    """
    names = _source_names()
    rows: list[tuple[int, TableRow]] = []
    for basic, entries in _ACTION_LISTS.items():
        for entry in entries:
            value = (entry[0] << 16) | entry[1]
            mask = 0xFFFFFFFF if len(entry) == 2 else (entry[2] << 16) | entry[3]
            known = len(entry) == 2 and dictionary_has_tag(value)
            keyword = dictionary_keyword(value) if known else ""
            name = dictionary_description(value) if known else names.get(tuple(entry), "")
            vr = dictionary_VR(value) if known else ""
            rule = _rule_for(value, vr.split(" or ")[0])
            row = TableRow(_format_tag(value, mask), keyword, name, vr, basic, rule.action, rule.reason)
            rows.append((value, row))
    rows.sort(key=lambda pair: pair[0])
    return [row for _, row in rows] + list(_BEYOND_TABLE)
