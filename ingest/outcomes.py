"""What became of each file of an import: the outcomes and their reasons by the file's place (never its name),
the report and its counts, and the progress written as a job goes."""

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from .models import IngestJob

logger = logging.getLogger(__name__)


IMPORTED = "imported"


ALREADY_IMPORTED = "already imported"  # the case has the object from an earlier import


DUPLICATE = "duplicate"  # the same object came earlier in this upload


REFUSED = "refused"  # could not be read or de-identified


NOT_RENDERED = "not rendered"  # de-identified, but no image could be made of it


OUTCOMES = (IMPORTED, ALREADY_IMPORTED, DUPLICATE, REFUSED, NOT_RENDERED)


ALREADY_IN_CASE = "the case has this object already"


STOPPED = "the import stopped before this file was done; import it again"


@dataclass(frozen=True)
class FileOutcome:
    """What became of one candidate file; ``index`` is its 1-based place in the upload, ``name`` is never stored."""

    index: int
    name: str
    outcome: str
    reason: str


@dataclass
class StageReport:
    """What de-identification did: each refused file with its reason, and every file's name."""

    refused: list[FileOutcome] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)
    # index → name of every candidate: shown by the command and the upload's answer, never stored.
    names: dict[int, str] = field(default_factory=dict)

    @property
    def rejected(self) -> list[FileOutcome]:
        """The refused files, in upload order."""
        return sorted(self.refused, key=lambda outcome: outcome.index)

    @property
    def action_summary(self) -> str:
        """Say what de-identification did, e.g. "X 4210, shift 630, U 300"."""
        return ", ".join(f"{action} {count}" for action, count in self.actions.most_common())

    # (series, text) of free-text descriptors: shown to the author once, never stored (they may carry PHI).
    withheld_descriptions: list[tuple[str, str]] = field(default_factory=list)
    # stored name → (header without pixels, rendered object or None, reason), when rendered while staging.
    prerendered: dict[str, tuple] = field(default_factory=dict)


def file_outcomes(*, job: IngestJob, names: dict[int, str]) -> list[FileOutcome]:
    """Return every file's outcome from the job's report, named from the upload's own list (names are not kept).

    A duplicate's reason names the file it repeats: "the same object as file 3 (IM0003)".
    """

    def named(match: re.Match) -> str:
        index = int(match[1])
        return f"file {index} ({names[index]})" if index in names else match[0]

    return [
        FileOutcome(index, names.get(index, f"file {index}"), outcome, _FILE_REFERENCE.sub(named, reason))
        for index, outcome, reason in job.report.get("files", [])
    ]


def file_counts(*, job: IngestJob) -> list[tuple[str, int]]:
    """Return (outcome, count) in the order of ``OUTCOMES`` (a JSON column need not keep its keys' order)."""
    counts = job.report.get("counts", {})
    return [(outcome, counts.get(outcome, 0)) for outcome in OUTCOMES] if counts else []


_FILE_REFERENCE = re.compile(r"\bfile (\d+)$")


def imported_all(job: IngestJob) -> bool:
    """Return whether the job is done and every one of its files (at least one) is in the case."""
    counts = job.report.get("counts", {})
    total = sum(counts.values())
    return job.status == IngestJob.Status.DONE and total > 0 and counts[IMPORTED] + counts[ALREADY_IMPORTED] == total


def note(outcomes: dict[int, tuple[str, str]], index: int, outcome: str, reason: str) -> None:
    """Record a file's outcome; files that share an index (the members of a zip inside the upload's zip, which
    the request lists as one candidate) keep the one furthest from "imported", so the author sees what failed."""
    if index not in outcomes or _SEVERITY[outcome] > _SEVERITY[outcomes[index][0]]:
        outcomes[index] = (outcome, reason)


_SEVERITY = {IMPORTED: 0, ALREADY_IMPORTED: 1, DUPLICATE: 2, NOT_RENDERED: 3, REFUSED: 4}


def report_files(job: IngestJob, outcomes: dict[int, tuple[str, str]]) -> None:
    """Put the files' outcomes (index, outcome, reason — no names) and their counts into the job's report."""
    files = [[index, *outcomes[index]] for index in sorted(outcomes)]
    counts = Counter(outcome for _, outcome, _ in files)
    job.report = {**job.report, "files": files, "counts": {outcome: counts[outcome] for outcome in OUTCOMES}}


DESCRIPTORS_SHOWN = ("SeriesDescription", "StudyDescription", "ProtocolName")


def note_descriptions(report: StageReport, held: set[tuple[str, str]]) -> None:
    for item in sorted(held):
        if item not in report.withheld_descriptions:
            report.withheld_descriptions.append(item)


def index_of(stored: str) -> int:
    """Return the candidate index a stored object is named by (``<index>-<random>.dcm``)."""
    found = re.match(r"(\d+)", stored.rsplit("/", 1)[-1])
    return int(found.group(1)) if found else 0
