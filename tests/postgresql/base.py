"""Django's PostgreSQL backend, emptied between tests by DELETE instead of TRUNCATE (the test settings use it).

TRUNCATE gives every one of the project's 60-odd tables and their indexes new files: 0.2–1 s each time a
transactional or browser test ends, where DELETE of the few hundred rows they hold takes milliseconds. The
foreign keys Django makes are deferrable, so the rows go in any order within the flush's transaction. Nothing
but the flush differs from the backend production runs.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences:  # restarting the sequences is TRUNCATE's job
            return super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        deletes = [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
