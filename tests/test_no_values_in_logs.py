"""Issue 13 §3: an identifier planted in any attribute the import parses never comes out of it.

Each file of ``imaging.tests.corpus.reasons`` holds "MRN8675309", "8675309" or "DOE^JANE" in one attribute that
makes it invalid or odd. The files go through both paths (the web's ``ingest_stage`` then ``ingest_run``, and
the ``import_study`` command) with every logger at DEBUG. The values must be in no log record (its message,
arguments and traceback, as every handler receives it), no configured handler's output, no job report, no
refusal reason, no database row and no stored file.
"""

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from cases.tests.factories import make_case
from imaging import group
from imaging.tests.corpus import reasons
from imaging.uploads import sources_from_paths
from ingest.clean import ingest_stage
from ingest.models import IngestJob
from ingest.run import ingest_run
from ingest.spool import ingest_limits
from tests.test_no_phi import database_dump

pytestmark = pytest.mark.django_db


class Everything(logging.Handler):
    """Keep every record it sees, formatted with its traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record):
        self.records.append(record)
        self.lines.append(self.format(record) + repr(record.args))


@pytest.fixture
def every_log(caplog):
    """Every log line at DEBUG: what the root sees, what the withheld loggers' handlers receive and write."""
    caplog.set_level(logging.DEBUG)
    seen = Everything()
    root = logging.getLogger()
    root.addHandler(seen)
    configured = [handler for handler in [*root.handlers, *logging.getLogger("pydicom").handlers] if handler.name]
    written = io.StringIO()
    streams = {handler: handler.setStream(written) for handler in configured}
    withheld = [logging.getLogger(name) for name in settings.WITHHELD_LOGGERS]
    levels = {logger: logger.level for logger in withheld}
    for logger in withheld:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(seen)  # after the configured handler: sees the record as every handler gets it
    try:
        yield seen, written, caplog
    finally:
        for logger in withheld:
            logger.removeHandler(seen)
            logger.setLevel(levels[logger])
        root.removeHandler(seen)
        for handler, stream in streams.items():
            handler.setStream(stream)


def corpus(folder: Path) -> list[Path]:
    return reasons.make_planted_headers(folder)


def media_files() -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


def assert_nothing_quoted(texts: dict[str, str]) -> None:
    for where, text in texts.items():
        for value in reasons.PLANTED:
            assert value not in text, f"{value!r} in {where}"


def assert_no_planted_bytes(before: dict[Path, bytes]) -> None:
    for path, data in media_files().items():
        for value in reasons.PLANTED:
            assert path in before or value.encode() not in data, f"{value!r} in a stored file"


def log_texts(seen: Everything, written: io.StringIO, caplog) -> dict[str, str]:
    return {
        "a log record (every handler's view)": "\n".join(seen.lines),
        "a root log record's message or arguments": "\n".join(
            f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records
        ),
        "a configured handler's output": written.getvalue(),
    }


def test_the_web_path_quotes_no_planted_value(tmp_path, every_log):
    seen, written, caplog = every_log
    files = corpus(tmp_path)
    before = media_files()
    job = IngestJob.objects.create(case=make_case(status="draft"))
    report = ingest_stage(job=job, sources=enumerate(sources_from_paths([tmp_path], limits=ingest_limits()), start=1))
    ingest_run(job=job)
    job.refresh_from_db()

    reasons_given = [rejected.reason for rejected in report.rejected]
    assert len(reasons_given) >= 10, "the corpus has files that must be refused"
    assert "invalid image header (Number of Frames is not a positive whole number)" in reasons_given
    assert_nothing_quoted(
        {
            "a refusal reason": "\n".join(reasons_given),
            "the job report": repr(job.report),
            "a database row": database_dump(),
            **log_texts(seen, written, caplog),
        }
    )
    assert "withheld" in "\n".join(seen.lines), "pydicom did report problems, withheld"
    assert len(files) == len(reasons.PLANTS) + len(reasons.META_PLANTS)
    assert_no_planted_bytes(before)


def test_the_command_quotes_no_planted_value(tmp_path, every_log):
    seen, written, caplog = every_log
    corpus(tmp_path)
    before = media_files()
    case = make_case(status="draft")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_study", str(tmp_path), case=case.number, stdout=out)
    job = IngestJob.objects.get(case=case)

    # The command prints file names (ours, made up here) and reasons, which must not quote the files.
    assert re.search(
        r"refused number-of-frames\.dcm \(file \d+\): "
        r"invalid image header \(Number of Frames is not a positive whole number\)",
        out.getvalue(),
    )
    assert_nothing_quoted(
        {
            "the command's output": out.getvalue(),
            "the job report": repr(job.report),
            "a database row": database_dump(),
            **log_texts(seen, written, caplog),
        }
    )
    assert_no_planted_bytes(before)


def test_a_warning_reaches_the_log_as_its_category_and_place_only():
    """Django does not capture warnings into logging; the settings' LOGGING_CONFIG does, and withholds the text."""
    code = (
        "import django, warnings; django.setup(); "
        f"warnings.warn('Invalid value for VR IS: {reasons.MRN}'); "
        f"import logging; logging.getLogger('pydicom.pixels.utils').warning('frame of %s', '{reasons.NAME}')"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "teachingfile.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert "py.warnings: A UserWarning at <string>:1 (message withheld" in result.stderr
    assert "pydicom.pixels.utils: pydicom.pixels.utils reported a problem (message withheld" in result.stderr
    assert_nothing_quoted({"the process's output": result.stdout + result.stderr})


def test_the_command_shows_a_withheld_description_once_and_nowhere_else(tmp_path, every_log):
    """Kept by decision (docs/decisions.md): the author reads it on the terminal; no log, report or row has it."""
    seen, written, caplog = every_log
    ct = reasons.synthetic_ct()
    ct.SeriesDescription = f"CT CHEST {reasons.MRN}"
    ct.save_as(tmp_path / "ct.dcm", enforce_file_format=True)
    case = make_case(status="draft")
    out = io.StringIO()
    call_command("import_study", str(tmp_path), case=case.number, stdout=out)

    assert f"(not stored): CT CHEST {reasons.MRN}" in out.getvalue()
    assert out.getvalue().count(reasons.MRN) == 1
    assert_nothing_quoted(
        {
            "the job report": repr(IngestJob.objects.get(case=case).report),
            "a database row": database_dump(),
            **log_texts(seen, written, caplog),
        }
    )


def test_a_failed_import_logs_its_traceback_without_the_exception_text(tmp_path, every_log, monkeypatch):
    seen, written, caplog = every_log

    def broken(headers):
        raise ValueError(f"Invalid value for VR IS: '{reasons.MRN}'")  # as pydicom words it

    monkeypatch.setattr(group, "group_series", broken)
    reasons.synthetic_ct().save_as(tmp_path / "ct.dcm", enforce_file_format=True)
    job = IngestJob.objects.create(case=make_case(status="draft"))
    ingest_stage(job=job, sources=enumerate(sources_from_paths([tmp_path], limits=ingest_limits()), start=1))
    ingest_run(job=job)

    assert job.status == IngestJob.Status.FAILED
    failed = [line for line in seen.lines if "failed" in line and line.startswith("ingest.run ERROR")]
    assert failed and "in broken" in failed[0] and "ValueError (message withheld" in failed[0]
    assert_nothing_quoted({"the job report": repr(job.report), **log_texts(seen, written, caplog)})
