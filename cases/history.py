"""A case's history beyond its own fields: what happened to its findings, differential, references, stages,
gates, images and annotations, merged newest first for the History page of the authoring screen."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from django.db.models import Q

from .models import Annotation, Case, CaseFinding, CaseReference, DifferentialEntry, Gate, Image, Series

ACTIONS = {"+": "added", "~": "changed", "-": "deleted"}
# Records one save or one delete wrote together (a stage's 300 images) show as one row.
SAME_CHANGE = timedelta(seconds=2)
SHOWN = 300


@dataclass
class PartChange:
    """One change, or a run of the same change to several items of one kind at once."""

    when: datetime
    who: object
    part: str
    name: str
    action: str
    fields: list[str] = field(default_factory=list)
    count: int = 1


def case_part_changes(case: Case, limit: int = SHOWN) -> list[PartChange]:
    """Return the changes to the case's parts, newest first: who, when, which item, which fields.

    One query per kind of part, whatever the number of records; a field list names what a change altered
    against that item's previous record.
    """
    # A stage is the case's while it is (one moved to another case goes with it) or when it was deleted from it;
    # subqueries, not joins, since a deleted stage's records point at no row.
    live_stages = Series.objects.filter(case=case).values("id")
    deleted_stages = Series.history.filter(case_id=case.pk, history_type="-").values("id")
    stages = Q(series_id__in=live_stages) | Q(series_id__in=deleted_stages)
    live_images = Image.objects.filter(series__case=case).values("id")
    deleted_images = Image.history.filter(stages, history_type="-").values("id")
    images = Q(image_id__in=live_images) | Q(image_id__in=deleted_images)
    sources = [
        ("Finding", CaseFinding, Q(case_id=case.pk)),
        ("Differential", DifferentialEntry, Q(case_id=case.pk)),
        ("Reference", CaseReference, Q(case_id=case.pk)),
        ("Stage", Series, Q(case_id=case.pk)),
        ("Gate", Gate, stages),
        ("Image", Image, stages),
        ("Annotation", Annotation, images),
    ]
    changes = []
    for part, model, condition in sources:
        records = model.history.filter(condition).select_related("history_user__profile")
        records = records.order_by("id", "history_date")
        for _, item_records in groupby(records, key=lambda record: record.id):
            previous = None
            for record in item_records:
                changes.append(_change(part, model, record, previous))
                previous = record
    changes.sort(key=lambda change: change.when, reverse=True)
    return _runs(changes)[:limit]


def _change(part: str, model, record, previous) -> PartChange:
    changed = []
    if record.history_type == "~" and previous is not None:
        delta = record.diff_against(previous)
        changed = [str(model._meta.get_field(change.field).verbose_name) for change in delta.changes]
    return PartChange(
        when=record.history_date,
        who=record.history_user,
        part=part,
        name=str(record.instance),
        action=ACTIONS[record.history_type],
        fields=changed,
    )


def _runs(changes: list[PartChange]) -> list[PartChange]:
    """Fold neighbouring identical changes (same person, kind, action and fields, written together) into one."""
    runs: list[PartChange] = []
    previous = None
    for change in changes:
        last = runs[-1] if runs else None
        if last is not None and _kind(last) == _kind(change) and previous.when - change.when <= SAME_CHANGE:
            last.count += 1
        else:
            runs.append(change)
        previous = change
    return runs


def _kind(change: PartChange) -> tuple:
    return (change.who, change.part, change.action, change.fields)
