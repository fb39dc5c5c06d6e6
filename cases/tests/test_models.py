"""Rules the models keep themselves, whatever writes the row."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cases.models import CaseReference, TopicReference
from cases.tests.factories import make_case, make_topic

pytestmark = pytest.mark.django_db

NOT_WEB = ["javascript://example.org/%0Aalert(1)", "javascript:alert(1)", "ftp://example.org/paper.pdf", "data:,x"]


@pytest.mark.parametrize("url", NOT_WEB)
def test_a_reference_url_must_be_a_web_address(url):
    reference = CaseReference(case=make_case(), citation="A paper.", url=url)
    with pytest.raises(ValidationError) as refused:
        reference.full_clean()
    assert "url" in refused.value.message_dict


@pytest.mark.parametrize("url", ["https://pubs.rsna.org/doi/10.1148/rg.2019", "http://example.org/a", ""])
def test_web_addresses_and_none_are_accepted(url):
    reference = CaseReference(case=make_case(), citation="A paper.", url=url)
    reference.full_clean()
    assert reference.web_url() == url


@pytest.mark.parametrize("url", NOT_WEB)
def test_the_database_refuses_a_reference_url_that_is_not_web(url):
    for reference in (
        CaseReference(case=make_case(), citation="A paper.", url=url),
        TopicReference(topic=make_topic(), citation="A paper.", url=url),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            reference.save()


@pytest.mark.parametrize("url", NOT_WEB)
def test_only_a_web_address_is_given_as_a_link(url):
    assert CaseReference(citation="A paper.", url=url).web_url() == ""
