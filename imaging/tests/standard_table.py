"""DICOM PS3.15 Table E.1-1 as the standard publishes it: the de-identifier's test oracle.

The rows are read from ``data/ps3.15-2025-table-e1-1.csv``, a copy made from another source than the one
``imaging.deidentify`` takes its rules from; its header lines name the source, edition and licence.
"""

import csv
import re
from pathlib import Path

STANDARD_TABLE = Path(__file__).parent / "data" / "ps3.15-2025-table-e1-1.csv"


def load_standard_table() -> list[dict[str, str]]:
    """Return every row of the vendored Table E.1-1: tag, keyword, the Basic Profile's code and each option's."""
    with STANDARD_TABLE.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(line for line in file if not line.startswith("#")))


def exact_tag(row: dict[str, str]) -> int | None:
    """Return the row's tag as an integer, or None for a masked row (50xx, 60xx, private)."""
    match = re.fullmatch(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)", row["tag"])
    return int(match[1] + match[2], 16) if match else None
