"""The editorial workflow: which status a case may move to, and who may move it."""

from .models import Case

Status = Case.Status

# target status → whether only editors (holders of cases.publish_case) may make the move
TRANSITIONS: dict[str, dict[str, bool]] = {
    Status.DRAFT: {Status.IN_REVIEW: False, Status.PUBLISHED: True},
    Status.IN_REVIEW: {Status.DRAFT: False, Status.PUBLISHED: True},
    Status.PUBLISHED: {Status.RETIRED: True, Status.DRAFT: True},
    Status.RETIRED: {Status.PUBLISHED: True},
}


# Readers open these cases: a faculty author's edits to them wait for an editor (see cases/revisions.py).
LIVE = (Status.PUBLISHED, Status.RETIRED)


class StatusChangeRefused(ValueError):
    """The move is not part of the workflow, or this user may not make it."""


def allowed_statuses(*, current: str | None, user) -> list[Case.Status]:
    """Return the statuses this user may give a case now in ``current`` (None for a new case), current first."""
    start = Status(current) if current else Status.DRAFT
    may_publish = user.has_perm("cases.publish_case")
    targets = [Status(target) for target, editors_only in TRANSITIONS[start].items() if may_publish or not editors_only]
    return [start, *targets]


def check_transition(*, case: Case, status: str, user) -> None:
    """Raise ``StatusChangeRefused`` unless this user may move the case to ``status``."""
    if status == case.status:
        return
    if Status(status) not in allowed_statuses(current=case.status, user=user):
        raise StatusChangeRefused(
            f"A case that is {case.get_status_display().lower()} cannot be made {Status(status).label.lower()} by you."
        )


def may_return(*, user, case: Case | None) -> bool:
    """Whether this user may send the case back to its authors as a draft (with comments) from where it is."""
    return bool(user.has_perm("cases.publish_case") and case is not None and case.pk and case.status != Status.DRAFT)


def edits_apply_directly(*, user, case: Case | None) -> bool:
    """Whether this user's edits to the case reach readers at once: an editor's always, an author's while no reader
    can open the case; otherwise they are proposed as a revision for an editor to approve."""
    return user.has_perm("cases.publish_case") or case is None or not case.pk or case.status not in LIVE
