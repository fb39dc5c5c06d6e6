"""A copy of the test database and media taken once, put back for the tests whose database is emptied.

The demo content takes seconds to generate (synthetic studies through the import pipeline). Tests that run
in a transaction see the copy the session loaded; browser tests cannot (the live server needs committed rows,
and the database is emptied after each), so they restore this snapshot instead of loading the demo again:
SQLite copies the whole database with its backup API, PostgreSQL copies every table from a schema of its own.
The media files are copied aside too, and those missing are put back.
"""

import shutil
import sqlite3
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction

SCHEMA = "demo_snapshot"


class Snapshot:
    """The default database's rows and the media folder's files at the time it was taken."""

    def __init__(self) -> None:
        self.media = Path(tempfile.mkdtemp(prefix="teachingfile-test-snapshot-")) / "media"
        shutil.copytree(settings.MEDIA_ROOT, self.media)
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            self.copy = sqlite3.connect(":memory:", check_same_thread=False)
            connection.connection.backup(self.copy)
        else:
            self.tables = connection.introspection.table_names()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
                for table in self.tables:
                    cursor.execute(f'CREATE TABLE {SCHEMA}."{table}" AS TABLE "{table}"')
                # Only the tables that hold rows are put back; the others are emptied.
                self.columns = {
                    table: ", ".join(f'"{name}"' for name in self._stored_columns(cursor, table))
                    for table in self.tables
                    if self._holds_rows(cursor, table)
                }

    def restore(self) -> None:
        """Make the database and the media what they were when the snapshot was taken."""
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            self.copy.backup(connection.connection)
        else:
            models = apps.get_models(include_auto_created=True)
            with transaction.atomic(), connection.cursor() as cursor:
                # DELETE, not TRUNCATE: milliseconds for these few rows, where TRUNCATE makes every table anew.
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute("; ".join(f'DELETE FROM "{table}"' for table in self.tables))
                # ON CONFLICT: triggers fill some tables as others are put back (cases_search_word).
                cursor.execute(
                    "; ".join(
                        f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM {SCHEMA}."{table}" '
                        "ON CONFLICT DO NOTHING"
                        for table, columns in self.columns.items()
                    )
                )
                cursor.execute("; ".join(connection.ops.sequence_reset_sql(no_style(), models)))
        media = Path(settings.MEDIA_ROOT)
        for path in self.media.rglob("*"):
            target = media / path.relative_to(self.media)
            if path.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)

    @staticmethod
    def _holds_rows(cursor, table: str) -> bool:
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM {SCHEMA}."{table}")')
        return cursor.fetchone()[0]

    @staticmethod
    def _stored_columns(cursor, table: str) -> list[str]:
        """The columns of a table that take values: not the generated ones (cases_case.search_document)."""
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]

    def discard(self) -> None:
        """Remove the copied media (the test database, with the PostgreSQL copy, is dropped by pytest-django)."""
        shutil.rmtree(self.media.parent, ignore_errors=True)
        if connection.vendor == "sqlite":
            self.copy.close()
