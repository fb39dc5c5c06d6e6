import gc
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from cases.models import Case
from imaging.uploads import sources_from_paths
from ingest.clean import ingest_stage
from ingest.lease import ingest_heartbeat
from ingest.models import IngestJob
from ingest.outcomes import IMPORTED, OUTCOMES, StageReport, file_outcomes, imported_all
from ingest.run import ingest_abandon, ingest_run
from ingest.spool import ingest_limits
from ingest.summary import case_stage_numbers, import_summary
from ingest.tasks import case_values_enqueue


class Command(BaseCommand):
    help = (
        "Import DICOM files, folders (recursively; symbolic links followed only while they stay inside the "
        "folder) or zip archives into a case: de-identify, group into stages, render. Prints each file that was "
        "not imported, by name, with its outcome (already imported, duplicate, refused, not rendered) and the "
        "reason, the series descriptions withheld from the stages (shown here only, never stored: they may name "
        "the patient), and a count per outcome. Exits 0 when every file was imported or already imported, 1 "
        "otherwise, 2 on a usage error. Names and descriptions are shown here once, never stored or logged."
    )

    # The system checks load every URL, view and admin module: a third of the command's start-up, spent on
    # pages it never serves (the web server and migrate check them).
    requires_system_checks = []

    def run_from_argv(self, argv):
        """Run as a process of its own, without collecting garbage until it exits (the workers still do)."""
        # The start-up leaves a few hundred thousand objects (modules, Django, pydicom) that live until the process
        # ends, and the import holds every object's header until it groups them. The collections that walk them
        # again and again, during the import and then in the interpreter's finalisation, cost about 0.5 s of CPU
        # of a 300-slice import on a busy machine (a fifth of this process's), for about 5,000 objects of cyclic
        # garbage found at the end (the same peak memory with 1,000 slices). Frozen objects are walked by none of
        # them, the last ones included. Only from the command line: call_command runs inside a process that goes on.
        gc.freeze()
        gc.disable()
        try:
            super().run_from_argv(argv)
        finally:
            gc.freeze()

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="Files, folders or zip archives.")
        parser.add_argument("--case", required=True, help="Case number, e.g. tf101.")

    def handle(self, *args, paths: list[Path], case: str, **options):
        if not paths:
            raise CommandError("Give at least one file, folder or zip archive.", returncode=2)
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}", returncode=2)
        target = Case.objects.filter(number=case).first()
        if target is None:
            raise CommandError(f"No case numbered {case!r}.", returncode=2)

        job = IngestJob.objects.create(case=target)
        sources = enumerate(sources_from_paths(paths, limits=ingest_limits()), start=1)
        workers = settings.TEACHINGFILE_INGEST_WORKERS
        # The heartbeat lets the lease check close the job and delete its files if this process is killed.
        with ingest_heartbeat(job=job) as lease:
            try:
                report = ingest_stage(job=job, sources=sources, workers=workers, render_now=True, lease=lease)
            except Exception as error:
                ingest_abandon(job=job, error=error)
                job.refresh_from_db()  # closed here, or by the lease check that took it over
                raise CommandError(job.report.get("error", "The import was stopped."), returncode=1) from None
            progress = self._progress_bar() if sys.stderr.isatty() else None
            ingest_run(job=job, progress=progress, workers=workers, prerendered=report.prerendered, lease=lease)
        self._print_report(job, report)
        case_values_enqueue(job=job)
        if job.status == IngestJob.Status.FAILED:
            raise CommandError(job.report.get("error", "The import failed."), returncode=1)
        if not imported_all(job):
            sys.exit(1)

    def _progress_bar(self):
        def show(done: int, total: int) -> None:
            width = 40
            filled = int(width * done / total) if total else width
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        return show

    def _print_report(self, job: IngestJob, report: StageReport) -> None:
        for sentence in import_summary(job=job, stage_numbers=case_stage_numbers(job.case)):
            self.stdout.write(sentence)
        for item in job.report.get("series", []):
            files, images = item["files"], item["images"]
            label = item["label"]
            self.stdout.write(f"{files:>5} file{pluralize(files)} → {label} ({images} image{pluralize(images)})")
        # Each description once, with the series that carried it: a study repeats the same text in every series.
        carried: dict[str, list[str]] = {}
        for series, description in report.withheld_descriptions:
            carried.setdefault(description, []).append(series)
        for description, series in carried.items():
            self.stdout.write(f"withheld description of {', '.join(series)} (not stored): {description}")
        outcomes = file_outcomes(job=job, names=report.names)
        for outcome in outcomes:
            if outcome.outcome != IMPORTED:
                self.stdout.write(f"{outcome.outcome} {outcome.name} (file {outcome.index}): {outcome.reason}")
        if report.actions:
            self.stdout.write(f"de-identification (attributes per action): {report.action_summary}")
        if not outcomes:
            self.stdout.write("No files found.")
            return
        counts = job.report["counts"]
        summary = ", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES)
        self.stdout.write(f"{len(outcomes)} file{pluralize(len(outcomes))}: {summary}.")
