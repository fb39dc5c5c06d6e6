"""Fixtures shared by every test: role users and the demo content."""

import pytest
from django.core.cache import cache
from django.core.management import call_command

from cases.tests.factories import make_user
from tests.snapshot import Snapshot

# The fixtures through which a test reaches a database: pytest-django refuses database access to any other.
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
DATABASE_FIXTURES |= {"live_server", "database_url", "admin_user", "admin_client", "django_user_model"}


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="Run only the tests whose outcome the database engine can change (CI's second pass, on PostgreSQL): "
        "those that use a database, but of the browser tests only those marked postgresql.",
    )


def uses_a_database(item) -> bool:
    marked = item.get_closest_marker("django_db") or item.get_closest_marker("database")
    return bool(marked) or bool(DATABASE_FIXTURES & set(item.fixturenames))


def engine_can_change(item) -> bool:
    """A browser test checks what a person sees; the requests behind it are the view tests' on both engines. Those
    marked postgresql run where the engine can change the flow itself (the site's processes, imports through the
    live server, the reveal's writes)."""
    if item.get_closest_marker("browser"):
        return bool(item.get_closest_marker("postgresql"))
    return uses_a_database(item)


def pytest_collection_modifyitems(config, items):
    """Start the tests that run the site's own processes (a minute each) first, after pytest-django's order.

    They use no test database, so their place does not matter to it; under pytest-xdist the other worker
    runs the short tests meanwhile, instead of one worker finishing the session alone on them.
    With ``--database-tests-only`` the tests whose outcome the engine cannot change are left out: they ran in
    the first pass.
    """
    if config.getoption("database_tests_only"):
        kept, left_out = [], []
        for item in items:
            (kept if engine_can_change(item) else left_out).append(item)
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
    items.sort(key=lambda item: "database_url" not in item.fixturenames)


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
