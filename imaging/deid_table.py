"""The table of every attribute's rule, as ``manage.py deid_table`` prints it into ``docs/deidentification.md``."""

import inspect
import re
from dataclasses import dataclass

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as table_e1_1
from pydicom.datadict import (
    dictionary_description,
    dictionary_has_tag,
    dictionary_keyword,
    dictionary_VR,
    tag_for_keyword,
)

from .deid_rules import (
    _ACTION_LISTS,
    _CURVE,
    _GROUP_LENGTH,
    _OVERLAY,
    _PERSON_NAME,
    _PRIVATE,
    _R_SHIFT,
    _REMOVED_BEYOND_TABLE,
    _STRAY_META,
    _UID_BEYOND,
    _UNKNOWN,
    DEIDENTIFICATION_CODES,
    DEIDENTIFICATION_METHOD,
    _rule_for,
)
from .deid_values import _VALUE_PATTERNS


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
