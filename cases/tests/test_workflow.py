"""The editorial workflow's one check: moves outside the table, or reserved to editors, are refused."""

import pytest

from cases import services
from cases.models import Case
from cases.tests.factories import make_case
from cases.workflow import StatusChangeRefused

pytestmark = pytest.mark.django_db

Status = Case.Status


@pytest.mark.parametrize(
    ("start", "target", "role"),
    [
        (Status.DRAFT, Status.PUBLISHED, "faculty"),
        (Status.IN_REVIEW, Status.PUBLISHED, "faculty"),
        (Status.PUBLISHED, Status.RETIRED, "faculty"),
        (Status.DRAFT, Status.RETIRED, "editor"),
        (Status.RETIRED, Status.IN_REVIEW, "editor"),
        (Status.PUBLISHED, Status.IN_REVIEW, "editor"),
    ],
)
def test_every_path_refuses_a_move_the_workflow_does_not_allow(start, target, role, request):
    user = request.getfixturevalue(role)
    case = make_case(status=start, authors=[user])
    with pytest.raises(StatusChangeRefused):
        services.case_set_status(case=case, status=target, by=user, comments="Looks fine.")
    case.refresh_from_db()
    assert case.status == start


def test_an_allowed_move_goes_through(faculty):
    case = make_case(status=Status.DRAFT, authors=[faculty])
    services.case_set_status(case=case, status=Status.IN_REVIEW, by=faculty)
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
