"""A case started from a study before anything is written about it: a draft whose required text holds
placeholders, and the check that refuses to submit or publish while any remains."""

import re

from django.db import IntegrityError, transaction

from .models import Case

# Recognisable at a glance in the form and in any list, and never a real history or diagnosis.
PLACEHOLDER = "[TO WRITE]"

PLACEHOLDERS = {
    "title": f"{PLACEHOLDER} a neutral title (never the diagnosis)",
    "brief_history": f"{PLACEHOLDER} the brief history shown with the images before the reveal.",
    "diagnosis": f"{PLACEHOLDER} the diagnosis",
}

_NUMBERED = re.compile(r"^(?P<prefix>[a-z]+)(?P<digits>[0-9]+)$")


def is_placeholder(text: str) -> bool:
    """Say whether a text still holds the placeholder a case from a study was created with."""
    return PLACEHOLDER in (text or "")


def case_placeholder_fields(case: Case) -> list[str]:
    """Return the names (as the form labels them) of the case's fields that still hold their placeholder."""
    return [
        str(Case._meta.get_field(name).verbose_name) for name in PLACEHOLDERS if is_placeholder(getattr(case, name))
    ]


def case_next_number() -> str:
    """Return a free case number following the newest numbered case (``tf123`` → ``tf124``), else ``case1``."""
    # The database's own pattern: PostgreSQL's regular expressions have no named groups.
    newest = Case.objects.filter(number__regex=r"^[a-z]+[0-9]+$").order_by("-pk").values_list("number", flat=True)
    found = _NUMBERED.match(newest.first() or "case0")
    prefix, number = found["prefix"], int(found["digits"]) + 1
    taken = set(Case.objects.filter(number__startswith=prefix).values_list("number", flat=True))
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def case_create_draft(*, by, region: str) -> Case:
    """Create a draft case for an import, authored by ``by``: its required text holds placeholders."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                case = Case.objects.create(number=case_next_number(), region=region, **PLACEHOLDERS)
                case.authors.add(by)
                return case
        except IntegrityError:
            continue  # another author took the number meanwhile
    raise IntegrityError("No free case number after three tries.")
