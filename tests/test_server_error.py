"""When the database cannot be reached, a person gets the site's error page, which says what became of their input."""

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse


@pytest.mark.parametrize(
    ("method", "url"), [("get", reverse("cases:case-list")), ("post", reverse("cases:case-reveal", args=["tf101"]))]
)
def test_a_page_failing_on_an_unreachable_database_says_what_became_of_the_input(client, resident, method, url):
    client.force_login(resident)
    client.raise_request_exception = False
    down = OperationalError("connection refused: is the server running?")
    # Every query now fails as it does when the database server is stopped, the session's first.
    with mock.patch.object(connection, "ensure_connection", side_effect=down):
        response = getattr(client, method)(url)
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side" in text
    assert "it was probably not saved" in text
    assert "css/site.css" in text, "styled like the rest of the site"
    assert "Traceback" not in text and "OperationalError" not in text and "connection refused" not in text
