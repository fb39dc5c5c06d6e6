"""Write the JSON Schema of case.json (built from the models) to docs/package.schema.json, or print it."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from packages.schema import case_schema

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "package.schema.json"


def schema_text() -> str:
    return json.dumps(case_schema(), indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the package format's JSON Schema to docs/package.schema.json (--print: to the output instead)."

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", help="Print the schema instead of writing the file.")

    def handle(self, *args, **options):
        if options["print"]:
            self.stdout.write(schema_text(), ending="")
            return
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
        self.stdout.write(f"Wrote {SCHEMA_FILE.relative_to(settings.BASE_DIR)}")
