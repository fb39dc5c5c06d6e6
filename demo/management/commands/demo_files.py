import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from demo.studies import cache_folder, demo_files_generate


class Command(BaseCommand):
    help = "Generate the demo's synthetic studies and pictures into the cache, on every core (load_demo reads them)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", type=Path, default=settings.BASE_DIR / "fixtures" / "demo.json", help="Demo content file."
        )

    def handle(self, *args, path: Path, **options):
        content = json.loads(path.read_text(encoding="utf-8"))
        generated = demo_files_generate(content, workers=os.cpu_count() or 1)
        self.stdout.write(f"{generated} demo files generated into {cache_folder()}")
