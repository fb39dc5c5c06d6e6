import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from cases import ingest
from cases.imaging import read
from cases.models import Case, IngestJob
from cases.tasks import prepare_viewer_values


class Command(BaseCommand):
    help = (
        "Import DICOM files, folders (recursively) or zip archives into a case: de-identify, group into "
        "stages, render. Exits 0 when every file was imported, 1 when some were refused, 2 on a usage error. "
        "Prints the refused files' names with reasons, and the descriptions de-identification withheld (they may "
        "name the patient): shown here once, never stored or logged."
    )

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
        sources = read.sources_from_paths(paths, limits=ingest.ingest_limits())
        workers = settings.TEACHINGFILE_INGEST_WORKERS
        report = ingest.ingest_stage(job=job, sources=sources, workers=workers, render_now=True)
        progress = self._progress_bar() if sys.stderr.isatty() else None
        ingest.ingest_run(job=job, progress=progress, workers=workers, prerendered=report.prerendered)
        self._print_report(job, report)
        if job.status == IngestJob.Status.DONE:
            prepare_viewer_values.enqueue(series_ids=[item["series"] for item in job.report.get("series", [])])
        if job.status == IngestJob.Status.FAILED:
            raise CommandError(job.report.get("error", "The import failed."), returncode=1)
        if report.rejected:
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

    def _print_report(self, job: IngestJob, report: ingest.StageReport) -> None:
        for item in job.report.get("series", []):
            files, images = item["files"], item["images"]
            label = item["label"]
            self.stdout.write(f"{files:>5} file{pluralize(files)} → {label} ({images} image{pluralize(images)})")
        for series, description in report.withheld_descriptions:
            self.stdout.write(f"withheld description of {series} (not stored): {description}")
        for rejected in report.rejected:
            self.stdout.write(f"refused {rejected.name}: {rejected.reason}")
        if report.actions:
            self.stdout.write(f"de-identification (attributes per action): {report.action_summary}")
        imported = sum(item["files"] for item in job.report.get("series", []))
        self.stdout.write(f"{imported} file{pluralize(imported)} imported, {len(report.rejected)} refused.")
