"""The values de-identification writes: the case's keys, new UIDs consistent within a case, shifted dates,
dummy values for each VR, and the check for malformed ones."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from pydicom.charset import python_encoding
from pydicom.datadict import (
    dictionary_has_tag,
    dictionary_VR,
)
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.multival import MultiValue

#: Dummy value for D on text VRs: neutral, valid for every text VR (≤ 16 characters).
DUMMY_TEXT = "ANONYMIZED"


_TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})


_NUMBER_VRS = frozenset({"SL", "SS", "SV", "UL", "US", "UV", "FL", "FD"})


#: Dummy value for D on the other-byte VRs: eight zero bytes, a length every one of them allows.
DUMMY_BYTES = bytes(8)


_BYTES_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW"})


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
