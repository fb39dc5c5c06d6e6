"""The JSON Schema in docs/ is the one the import checks against, and it describes what the export writes."""

import json
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings

from cases.models import Case
from packages.schema import case_schema

from .helpers import case_json

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "package.schema.json"


def test_the_committed_schema_is_the_one_the_import_uses():
    """After a model change: ``python manage.py package_schema`` writes it again."""
    assert json.loads(SCHEMA_FILE.read_text()) == case_schema()


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(case_schema())


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["tf101", "tf102", "tf103"])
def test_every_demo_case_exports_a_document_the_schema_accepts(number):
    jsonschema.validate(case_json(Case.objects.get(number=number)), case_schema())
