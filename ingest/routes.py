"""Where a route's studies go: a new draft per study, or a draft its author chose for the studies sent next.

The choice is checked when it is made (only the route's author or an editor makes it, and only for a draft the
route's author may edit) and again when a study is released (``received``): a draft published or deleted
meanwhile receives nothing, and the study becomes a new draft that says so.
"""

import logging

from django.core.exceptions import PermissionDenied

from cases.models import Case

from .models import ReceiverRoute

logger = logging.getLogger(__name__)

NOT_A_DRAFT = "Studies can be added only to a draft that the AE title's author may edit."


def route_may_be_set_by(*, route: ReceiverRoute, user) -> bool:
    """Whether this user may choose where the route's studies go: its author, or an editor of routes."""
    return user.is_active and (route.author_id == user.pk or user.has_perm("ingest.change_receiverroute"))


def case_takes_studies_of(*, case: Case, route: ReceiverRoute) -> bool:
    """Whether received studies may be added to this case: a draft that the route's author may edit."""
    return case.status == Case.Status.DRAFT and case.is_editable_by(route.author)


def route_destination_set(*, route: ReceiverRoute, case: Case | None, by) -> None:
    """Send the route's next studies to ``case`` (a draft its author may edit), or, with None, each to a new draft.

    Raises ``PermissionDenied`` when ``by`` may not set the route or the case may not receive its studies.
    """
    if not route_may_be_set_by(route=route, user=by):
        raise PermissionDenied
    if case is not None and not case_takes_studies_of(case=case, route=route):
        raise PermissionDenied(NOT_A_DRAFT)
    route.destination = case
    route.adds_to_draft = case is not None
    route.save(update_fields=["destination", "adds_to_draft"])
    logger.info(
        "A receiver route now sends its studies %s", "to a chosen draft" if case is not None else "each to a new draft"
    )


def route_destination_open(route: ReceiverRoute) -> tuple[Case | None, bool]:
    """Return the draft the route's next study goes to (None: a new draft) and whether a chosen draft is gone.

    A chosen draft is gone when it was deleted, published, submitted, or its author lost the right to edit it.
    """
    if not route.adds_to_draft:
        return None, False
    case = Case.objects.filter(pk=route.destination_id).prefetch_related("authors").first()
    if case is None or not case_takes_studies_of(case=case, route=route):
        return None, True
    return case, False
