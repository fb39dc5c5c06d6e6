"""What a package's JSON must be before anything is saved: the format and version, the schema, no markup.

Messages name the place in ``case.json`` and the rule, never the value found there (it may be anything).
"""

import json
import re
from functools import cache

import jsonschema

from .archive import PackageRefused
from .schema import CASE_FORMAT, COLLECTION_FORMAT, VERSION, case_schema, collection_schema

# A tag or a comment: the site's text is plain text and Markdown, rendered through its own sanitiser; markup in
# a package from elsewhere is refused rather than silently changed (docs/packages.md).
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?\s*>|<!--|<!\[CDATA\[|javascript:", re.IGNORECASE)


def parse_json(data: bytes, *, name: str) -> dict:
    """Return a JSON object read from ``data``; refuse anything else."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackageRefused(f"{name} is not valid JSON ({type(error).__name__}).") from None
    if not isinstance(document, dict):
        raise PackageRefused(f"{name} is not a JSON object.")
    return document


def check_format(document: dict, *, name: str, expected: str) -> None:
    """Refuse a document of another format or of a version this site does not read."""
    found = document.get("format")
    if found not in (CASE_FORMAT, COLLECTION_FORMAT) or found != expected:
        raise PackageRefused(f"{name} is not a {expected} document: unknown format.")
    if document.get("version") != VERSION:
        raise PackageRefused(f"{name} is version {document.get('version')!s:.10}; this site reads version {VERSION}.")


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = case_schema() if kind == CASE_FORMAT else collection_schema()
    return jsonschema.Draft202012Validator(schema)


def check_schema(document: dict, *, name: str, kind: str = CASE_FORMAT) -> None:
    """Refuse a document the JSON Schema refuses, naming the first place and rule that fail."""
    error = jsonschema.exceptions.best_match(_validator(kind).iter_errors(document))
    if error is not None:
        raise PackageRefused(f"{name}: {where(error.absolute_path)} {_rule(error)}.")


def check_markup(value, *, name: str, path: tuple = ()) -> None:
    """Refuse HTML markup in any text of the document."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_markup(item, name=name, path=(*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_markup(item, name=name, path=(*path, index))
    elif isinstance(value, str) and MARKUP.search(value):
        raise PackageRefused(f"{name}: {where(path)} holds HTML markup; packages carry plain text and Markdown only.")


def where(path) -> str:
    """Name a place in the document for a person: ``case.stages[2].images[1].caption`` (counted from 1)."""
    parts = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step + 1}]")
        else:
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "the document"


def _rule(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    rules = {
        "maxLength": lambda: f"is longer than {schema.get('maxLength')} characters",
        "enum": lambda: "is not one of the values this site knows",
        "const": lambda: "is not the value the format requires",
        "type": lambda: f"should be {schema.get('type')}",
        "required": lambda: f"lacks a required field ({error.message.split(' is ')[0]})",
        "additionalProperties": lambda: "has a field the format does not know",
        "maxItems": lambda: f"has more than {schema.get('maxItems')} entries",
        "pattern": lambda: "is not in the form the format requires",
    }
    return rules.get(error.validator, lambda: f"does not match the format ({error.validator})")()
