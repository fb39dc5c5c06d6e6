"""Header attributes as reading, grouping and labelling read them: text, numbers, UIDs, frame counts, and
values from the functional groups of enhanced objects."""

import math
import re
from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

UID_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)+$")


def text(dataset: Dataset, keyword: str) -> str:
    """Return an attribute as stripped text ("" when absent or empty)."""
    value = dataset.get(keyword)
    if value is None:
        return ""
    if not isinstance(value, str | bytes) and isinstance(value, Sequence) and len(value):
        value = value[0]
    return str(value).strip()


def first_number(value: Any) -> float | None:
    """Return value (or its first item) as a finite float, or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | bytes) and isinstance(value, Sequence):
        if not len(value):
            return None
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def frame_count(dataset: Dataset) -> int:
    number = first_number(dataset.get("NumberOfFrames"))
    return int(number) if number and number >= 1 else 1


def functional(dataset: Dataset, sequence: str, keyword: str) -> Any:
    """Return keyword from a functional group macro: shared groups first, else the first frame's.

    PS3.3 C.7.6.16: enhanced multi-frame objects move per-image attributes
    such as Image Orientation (Patient) into functional group sequences.
    """
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        try:
            item = dataset.get(groups)[0].get(sequence)[0]
        except (TypeError, IndexError, AttributeError):
            continue
        value = item.get(keyword)
        if value is not None:
            return value
    return None


def functional_text(dataset: Dataset, sequence: str, keyword: str) -> str:
    value = functional(dataset, sequence, keyword)
    return str(value).strip().upper() if value is not None else ""


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def functional_item(ds: Dataset, sequence: str, frame_index: int) -> Dataset | None:
    """Return the functional group macro item for one frame (PS3.3 C.7.6.16): per-frame first, else shared."""
    for groups, index in (("PerFrameFunctionalGroupsSequence", frame_index), ("SharedFunctionalGroupsSequence", 0)):
        try:
            return ds.get(groups)[index].get(sequence)[0]
        except (TypeError, IndexError, AttributeError):
            continue
    return None


def uid_name(value: object) -> str:
    """Return the name DICOM's UID registry gives a UID, or "" for one it does not list (never the UID itself)."""
    uid = UID(str(value or "").strip())
    return uid.name if uid and uid.name != str(uid) else ""
