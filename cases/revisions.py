"""Revisions: a faculty author's changes to a case readers see, held until an editor approves them.

Readers keep the published case while a revision waits: its proposed values live in ``CaseRevision.data``
(only what differs from the case: field values by name, and whole lists of findings, differential entries or
references), never in the case's rows. Approval writes them to the case in one transaction, recorded in the
case's history with the editor as the user and the author in the change reason.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from accounts.names import display_name
from accounts.roles import EDITOR
from discussions.services import notifications_send

from . import workflow
from .diff import diff_html
from .models import Case, CaseFinding, CaseReference, CaseRevision, DifferentialEntry, Topic

logger = logging.getLogger(__name__)

# The lists a revision may replace: the case's related name → the model and the fields the authoring screen edits.
PARTS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "findings": (CaseFinding, ("order", "text")),
    "differential": (DifferentialEntry, ("order", "diagnosis", "topic", "reasoning")),
    "references": (CaseReference, ("order", "citation", "url")),
}
# Moved only by the workflow's own service, never by a revision.
NOT_REVISED = {"id", "status"}
REASON_LIMIT = 100  # simple-history's change reason column


class RevisionRefused(ValueError):
    """The revision cannot be decided or changed now, or not by this user."""


def revised_fields() -> list:
    """Return the case's fields a revision may change: what its authors edit, without the status."""
    fields = [field for field in Case._meta.concrete_fields if field.editable and field.name not in NOT_REVISED]
    return [*fields, Case._meta.get_field("authors")]


def case_values(case: Case) -> dict[str, Any]:
    """Return the case's revisable values as a revision stores them: plain JSON, related rows by id."""
    values = {}
    for field in revised_fields():
        if field.many_to_many:
            values[field.name] = sorted(user.pk for user in getattr(case, field.name).all())
        else:
            values[field.name] = getattr(case, field.attname)
    for name, (model, names) in PARTS.items():
        attnames = {part_field: model._meta.get_field(part_field).attname for part_field in names}
        values[name] = [
            {"id": row.pk, **{part_field: getattr(row, attname) for part_field, attname in attnames.items()}}
            for row in getattr(case, name).all()
        ]
    return values


def form_values(form, formsets) -> dict[str, Any]:
    """Return what the authoring screen's case form and its lists hold, as a revision stores it."""
    values = {}
    for field in revised_fields():
        if field.name in form.cleaned_data:
            values[field.name] = _plain(field, form.cleaned_data[field.name])
    for formset in formsets:
        name = next((name for name, (model, _) in PARTS.items() if formset.model is model), None)
        if name is None:
            continue
        model, names = PARTS[name]
        rows = []
        for row_form in formset.forms:
            cleaned = row_form.cleaned_data
            if not cleaned or cleaned.get("DELETE"):  # a blank extra row has no cleaned data
                continue
            row = {"id": cleaned["id"].pk if cleaned.get("id") else None}
            rows.append(row | {part: _plain(model._meta.get_field(part), cleaned.get(part)) for part in names})
        values[name] = sorted(rows, key=lambda row: row["order"])
    return values


def _plain(field, value) -> Any:
    if field.many_to_many:
        return sorted(item.pk for item in value)
    if field.is_relation:
        return value.pk if value is not None else None
    return value


def proposed_fields(revision: CaseRevision | None) -> dict[str, Any]:
    """Return the case field values a revision proposes (its lists left out), for the case form's initial data."""
    if revision is None:
        return {}
    return {name: value for name, value in revision.data.items() if name not in PARTS}


def open_revision(case: Case | None) -> CaseRevision | None:
    """Return the case's revision waiting for an editor or returned to its author, if there is one."""
    if case is None or not case.pk:
        return None
    return CaseRevision.objects.open().filter(case=case).select_related("author__profile", "editor__profile").first()


def pending_revisions():
    """Return the revisions waiting for an editor, oldest first, with their case and author."""
    return (
        CaseRevision.objects.filter(status=CaseRevision.Status.PENDING)
        .select_related("case", "author__profile")
        .order_by("updated", "pk")
    )


@transaction.atomic
def case_revision_propose(*, case: Case, by, data: dict[str, Any]) -> CaseRevision | None:
    """Hold these proposed values as the case's open revision, for an editor to review.

    Only what differs from the case as readers see it is kept; when nothing does, the open revision is
    withdrawn and None returned. A revision returned with comments waits for review again.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_editable_by(by):
        raise RevisionRefused("Only the case's authors and the editors change it.")
    current = case_values(case)
    changed = {name: value for name, value in data.items() if name in current and value != current[name]}
    revision = CaseRevision.objects.open().filter(case=case).first()
    if not changed:
        if revision is not None:
            _close(revision, status=CaseRevision.Status.WITHDRAWN)
        return None
    newly_waiting = revision is None or revision.status != CaseRevision.Status.PENDING
    revision = revision or CaseRevision(case=case)
    revision.author, revision.data, revision.status = by, changed, CaseRevision.Status.PENDING
    revision.save()
    logger.info("Revision %s of case %s waits for review (%s)", revision.pk, case.number, ", ".join(changed))
    if newly_waiting:
        editors = get_user_model().objects.filter(groups__name=EDITOR, is_active=True).exclude(pk=by.pk).distinct()
        notifications_send(
            users=editors,
            case=case,
            message=f"{display_name(by)} proposed changes to the published case {case.number}.",
            subject=f"Changes to case {case.number} to review",
            url=reverse("admin:cases_caserevision_review", args=[revision.pk]),
        )
    return revision


@transaction.atomic
def case_revision_approve(*, revision: CaseRevision, by) -> Case:
    """Apply a waiting revision to its case: readers see the new values from now on."""
    revision = _waiting(revision, by)
    case = revision.case
    if case.status not in workflow.LIVE:
        # Back in draft, its authors change it directly: these older values would undo what they did since.
        raise RevisionRefused(
            f"Case {case.number} is no longer published: its authors change it directly now. Return these changes "
            "to the author instead of approving them."
        )
    previous = case_values(case)
    author = display_name(revision.author) if revision.author else "a former author"
    reason = f"Revision {revision.pk} by {author}, approved by {display_name(by)}"[:REASON_LIMIT]
    fields = [field for field in revised_fields() if field.name in revision.data]
    for field in fields:
        if not field.many_to_many:
            setattr(case, field.attname, revision.data[field.name])
    try:
        case.validate_unique()
    except ValidationError as error:
        raise RevisionRefused(" ".join(error.messages)) from error
    if fields:
        case._change_reason, case._history_user = reason, by  # simple-history's documented per-save hooks
        case.save()
    if "authors" in revision.data:
        case.authors.set(revision.data["authors"])
    for name in PARTS:
        if name in revision.data:
            _replace_rows(case, name, revision.data[name], reason=reason, by=by)
    revision.previous = {name: previous[name] for name in revision.data}
    _close(revision, status=CaseRevision.Status.APPROVED, editor=by)
    logger.info("Revision %s of case %s approved by user %s", revision.pk, case.number, by.pk)
    _tell_author(revision, f"Your changes to case {case.number} were approved; readers see them now.")
    return case


@transaction.atomic
def case_revision_return(*, revision: CaseRevision, by, comments: str) -> CaseRevision:
    """Send a waiting revision back to its author with the editor's comments; the case stays as it is."""
    if not comments.strip():
        raise RevisionRefused("Write what the author should change.")
    revision = _waiting(revision, by)
    _close(revision, status=CaseRevision.Status.RETURNED, editor=by, comments=comments.strip())
    logger.info("Revision %s of case %s returned by user %s", revision.pk, revision.case.number, by.pk)
    _tell_author(revision, f"Your changes to case {revision.case.number} were returned with comments: {comments}")
    return revision


@transaction.atomic
def case_revision_withdraw(*, revision: CaseRevision, by) -> CaseRevision:
    """Drop an open revision (its authors changed their mind, or an editor cleared it); the case stays as it is."""
    revision = _locked(revision)
    if not revision.case.is_editable_by(by):
        raise RevisionRefused("Only the case's authors and the editors withdraw its changes.")
    if revision.status not in CaseRevision.OPEN:
        raise RevisionRefused("These changes were already decided.")
    return _close(revision, status=CaseRevision.Status.WITHDRAWN)


def _waiting(revision: CaseRevision, by) -> CaseRevision:
    if not by.has_perm("cases.publish_case"):
        raise RevisionRefused("Only editors decide on changes to published cases.")
    revision = _locked(revision)
    if revision.status != CaseRevision.Status.PENDING:
        raise RevisionRefused(f"These changes are no longer waiting: {revision.get_status_display().lower()}.")
    return revision


def _locked(revision: CaseRevision) -> CaseRevision:
    """Read the revision again under lock, its case first: the order every revision write takes, so none
    deadlock with an author's save (which locks the case, then writes the revision)."""
    case = Case.objects.select_for_update().get(pk=revision.case_id)
    revision = CaseRevision.objects.select_for_update(of=("self",)).select_related("author").get(pk=revision.pk)
    revision.case = case
    return revision


def _close(revision: CaseRevision, *, status: str, editor=None, comments: str = "") -> CaseRevision:
    revision.status, revision.editor, revision.comments = status, editor, comments
    revision.decided_at = timezone.now()
    revision.save()
    return revision


def _replace_rows(case: Case, name: str, rows: list[dict], *, reason: str, by) -> None:
    """Make the case's list hold these rows: stored rows by id are updated, others added, the rest deleted."""
    model, names = PARTS[name]
    stored = {row.pk: row for row in getattr(case, name).all()}
    for values in rows:
        row = stored.pop(values["id"], None) or model(case=case)
        changed = row.pk is None
        for part_field in names:
            attname = model._meta.get_field(part_field).attname
            if getattr(row, attname) != values[part_field]:
                setattr(row, attname, values[part_field])
                changed = True
        if changed:
            row._change_reason, row._history_user = reason, by
            row.save()
    for gone in stored.values():
        gone._change_reason, gone._history_user = reason, by
        gone.delete()


def _tell_author(revision: CaseRevision, message: str) -> None:
    if revision.author is None:
        return
    notifications_send(
        users=[revision.author],
        case=revision.case,
        message=message,
        subject=f"Case {revision.case.number}: changes {revision.get_status_display().lower()}",
        url=reverse("admin:cases_case_change", args=[revision.case_id]),
    )


@dataclass(frozen=True)
class FieldChange:
    """One field or list a revision changes: its label, and the old and new text side by side as a diff."""

    label: str
    old: str
    new: str

    @property
    def diff(self) -> SafeString:
        return diff_html(self.old, self.new)


@dataclass(frozen=True)
class RevisionChanges:
    revision: CaseRevision
    changes: list[FieldChange]


def revision_changes(revisions: Iterable[CaseRevision], *, case: Case) -> list[RevisionChanges]:
    """Describe what each revision of this case changes, field by field.

    An approved revision is compared with the values it replaced, any other with the case as it is now. A fixed
    number of queries however many revisions: the case's values once, then the topics and people they name.
    """
    revisions = list(revisions)
    if not revisions:
        return []
    current = case_values(case)
    pairs = []
    for revision in revisions:
        before = revision.previous if revision.status == CaseRevision.Status.APPROVED else current
        pairs.append((revision, {name: (before.get(name), value) for name, value in revision.data.items()}))
    names = _Names.collect((name, pair) for _, changed in pairs for name, pair in changed.items())
    labels = {field.name: str(field.verbose_name) for field in revised_fields()}
    labels |= {name: str(model._meta.verbose_name_plural) for name, (model, _) in PARTS.items()}
    return [
        RevisionChanges(
            revision=revision,
            changes=[
                FieldChange(
                    label=capfirst(labels.get(name, name)), old=names.text(name, old), new=names.text(name, new)
                )
                for name, (old, new) in changed.items()
            ],
        )
        for revision, changed in pairs
    ]


@dataclass
class _Names:
    """The topics and people revisions name by id, loaded once, and each value as the text the diff compares."""

    topics: dict[int, str]
    people: dict[int, str]

    @classmethod
    def collect(cls, changes: Iterable[tuple[str, tuple[Any, Any]]]) -> "_Names":
        topic_ids, user_ids = set(), set()
        for name, pair in changes:
            for value in pair:
                if name == "authors":
                    user_ids.update(value or [])
                elif name == "topic" and value:
                    topic_ids.add(value)
                elif name == "differential":
                    topic_ids.update(row["topic"] for row in value or [] if row.get("topic"))
        topics = dict(Topic.objects.filter(pk__in=topic_ids).values_list("pk", "name"))
        users = get_user_model().objects.filter(pk__in=user_ids).select_related("profile")
        return cls(topics=topics, people={user.pk: display_name(user) for user in users})

    def text(self, name: str, value: Any) -> str:
        if value is None or value == "":
            return ""
        if name == "authors":
            return ", ".join(self.people.get(pk, "(removed account)") for pk in value)
        if name == "topic":
            return self.topics.get(value, "(deleted topic)")
        if name in PARTS:
            return "\n".join(self._row(name, row) for row in value)
        field = Case._meta.get_field(name)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        return str(value)

    def _row(self, name: str, row: dict) -> str:
        if name == "findings":
            return f"{row['order']}. {row['text']}"
        if name == "differential":
            topic = f" [{self.topics.get(row['topic'], '(deleted topic)')}]" if row.get("topic") else ""
            return f"{row['order']}. {row['diagnosis']}{topic}: {row['reasoning']}"
        url = f" <{row['url']}>" if row.get("url") else ""
        return f"{row['order']}. {row['citation']}{url}"
