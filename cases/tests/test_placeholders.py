"""A draft made for its author (a study received from the PACS) holds placeholder text that the workflow refuses
to submit or publish until the author has written their own."""

import pytest

from cases import services
from cases.placeholders import PLACEHOLDERS, case_placeholder_problems
from cases.tests.factories import make_case


@pytest.mark.django_db
def test_a_case_holding_placeholders_is_neither_submitted_nor_published(faculty, editor):
    case = make_case(status="draft", authors=[faculty], **PLACEHOLDERS)
    assert len(case_placeholder_problems(case)) == 3
    with pytest.raises(services.NotReadyToPublish, match="placeholder title"):
        services.case_set_status(case=case, status="review", by=faculty)
    with pytest.raises(services.NotReadyToPublish, match="placeholder diagnosis"):
        services.case_set_status(case=case, status="published", by=editor)


@pytest.mark.django_db
def test_once_written_the_case_goes_on(faculty):
    case = make_case(status="draft", authors=[faculty], **PLACEHOLDERS)
    case.title, case.brief_history, case.diagnosis = "Hip pain", "A man of 40 with hip pain.", "Osteoid osteoma"
    case.save()
    assert case_placeholder_problems(case) == []
    assert services.case_set_status(case=case, status="review", by=faculty).status == "review"
