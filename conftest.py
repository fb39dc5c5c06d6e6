"""Fixtures shared by every test: role users and the demo content."""

import pytest
from django.core.cache import cache
from django.core.management import call_command

from cases.tests.factories import make_user
from tests.snapshot import Snapshot


def pytest_collection_modifyitems(items):
    """Start the tests that run the site's own processes (a minute each) first, after pytest-django's order.

    They use no test database, so their place does not matter to it; under pytest-xdist the other worker
    runs the short tests meanwhile, instead of one worker finishing the session alone on them.
    """
    items.sort(key=lambda item: "database_url" not in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the demo content once; tests run in transactions on top of it, or on a copy of it (demo_snapshot)."""
    with django_db_blocker.unblock():
        call_command("load_demo", "--accounts", verbosity=0)
        call_command("load_demo_quizzes", verbosity=0)
        snapshot = Snapshot()
    yield snapshot
    snapshot.discard()


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup) -> Snapshot:
    """The database and media just after the demo was loaded, for tests whose database is emptied after each."""
    return django_db_setup


@pytest.fixture(autouse=True)
def _no_counts_from_other_tests():
    """Rate limits count in the cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def resident(db):
    return make_user("resident-t", "resident")


@pytest.fixture
def faculty(db):
    return make_user("faculty-t", "faculty")


@pytest.fixture
def other_faculty(db):
    return make_user("faculty-other-t", "faculty")


@pytest.fixture
def editor(db):
    return make_user("editor-t", "editor")
