"""The de-identification rules: what Table E.1-1 (as dicom-anonymizer's action lists carry it, with the options
we use) and our own additions say to do with each attribute."""

from functools import lru_cache
from typing import NamedTuple

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as table_e1_1
from pydicom.datadict import (
    dictionary_has_tag,
    dictionary_keyword,
)

from .deid_values import _dummy_description

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
