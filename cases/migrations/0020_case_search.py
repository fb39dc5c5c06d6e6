"""Full-text search and the indexes of the case lists (issue 16 §2).

The search documents live beside the models, kept by the database itself so that every write reaches them
(``save``, ``QuerySet.update``, the admin, raw loads):

- PostgreSQL: ``cases_case.search_document``, a stored generated ``tsvector`` of what a reader sees before the
  reveal (number and title weighted A, brief history B) with a GIN index; pg_trgm for misspelt words (0021).
  A later migration that changes the type of ``number``, ``title`` or
  ``brief_history`` must drop the column first and add it back (PostgreSQL refuses to retype a column a
  generated column reads).
- SQLite: ``cases_case_fts``, an FTS5 index of the same fields over the table (external content), and
  ``cases_case_full_fts``, an FTS5 table of the whole document (those fields, diagnosis, keywords, findings),
  searched only within the cases a reader revealed. Triggers keep both current. SQLite rebuilds a table that a
  migration alters and drops its triggers: a later migration that alters ``cases_case`` or
  ``cases_casefinding`` on SQLite must create them again (cases/tests/test_search.py fails until it does).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

POSTGRESQL = [
    """ALTER TABLE cases_case ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, number || ' ' || title), 'A')
        || setweight(to_tsvector('english'::regconfig, brief_history), 'B')
    ) STORED""",
    "CREATE INDEX case_search_document ON cases_case USING gin (search_document)",
]
POSTGRESQL_BACK = [
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS search_document",
]

PUBLIC = "number, title, brief_history"
# The whole document of the cases whose id is in {cases}: what a reader who revealed them may search.
FULL_ROWS = """INSERT INTO cases_case_full_fts (rowid, number, title, brief_history, diagnosis, keywords, findings)
    SELECT c.id, c.number, c.title, c.brief_history, c.diagnosis, c.keywords,
        (SELECT group_concat(f.text, ' ') FROM cases_casefinding f WHERE f.case_id = c.id)
    FROM cases_case c WHERE c.id IN ({cases})"""


def _refresh_full(cases: str) -> str:
    return f"DELETE FROM cases_case_full_fts WHERE rowid IN ({cases}); {FULL_ROWS.format(cases=cases)};"


SQLITE = [
    f"""CREATE VIRTUAL TABLE cases_case_fts USING fts5({PUBLIC}, content='cases_case', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    "INSERT INTO cases_case_fts (cases_case_fts) VALUES ('rebuild')",
    f"""CREATE VIRTUAL TABLE cases_case_full_fts USING fts5({PUBLIC}, diagnosis, keywords, findings,
        tokenize='porter unicode61 remove_diacritics 2')""",
    FULL_ROWS.format(cases="SELECT id FROM cases_case"),
    f"""CREATE TRIGGER cases_case_search_insert AFTER INSERT ON cases_case BEGIN
        INSERT INTO cases_case_fts (rowid, {PUBLIC}) VALUES (new.id, new.number, new.title, new.brief_history);
        {_refresh_full("new.id")}
    END""",
    f"""CREATE TRIGGER cases_case_search_delete AFTER DELETE ON cases_case BEGIN
        INSERT INTO cases_case_fts (cases_case_fts, rowid, {PUBLIC})
            VALUES ('delete', old.id, old.number, old.title, old.brief_history);
        DELETE FROM cases_case_full_fts WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER cases_case_search_update AFTER UPDATE OF {PUBLIC}, diagnosis, keywords ON cases_case BEGIN
        INSERT INTO cases_case_fts (cases_case_fts, rowid, {PUBLIC})
            VALUES ('delete', old.id, old.number, old.title, old.brief_history);
        INSERT INTO cases_case_fts (rowid, {PUBLIC}) VALUES (new.id, new.number, new.title, new.brief_history);
        {_refresh_full("old.id, new.id")}
    END""",
    f"""CREATE TRIGGER cases_casefinding_search_insert AFTER INSERT ON cases_casefinding BEGIN
        {_refresh_full("new.case_id")}
    END""",
    f"""CREATE TRIGGER cases_casefinding_search_delete AFTER DELETE ON cases_casefinding BEGIN
        {_refresh_full("old.case_id")}
    END""",
    f"""CREATE TRIGGER cases_casefinding_search_update AFTER UPDATE OF text, case_id ON cases_casefinding BEGIN
        {_refresh_full("old.case_id, new.case_id")}
    END""",
]
SQLITE_BACK = [
    "DROP TRIGGER IF EXISTS cases_casefinding_search_insert",
    "DROP TRIGGER IF EXISTS cases_casefinding_search_delete",
    "DROP TRIGGER IF EXISTS cases_casefinding_search_update",
    "DROP TRIGGER IF EXISTS cases_case_search_insert",
    "DROP TRIGGER IF EXISTS cases_case_search_delete",
    "DROP TRIGGER IF EXISTS cases_case_search_update",
    "DROP TABLE IF EXISTS cases_case_full_fts",
    "DROP TABLE IF EXISTS cases_case_fts",
]


def run(statements: dict[str, list[str]]):
    def operation(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0019_reveal_differential"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(
            run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            run({"postgresql": POSTGRESQL_BACK, "sqlite": SQLITE_BACK}),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "region", "-published_at", "-id"], name="case_region_listing"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["status", "difficulty", "-published_at", "-id"], name="case_difficulty_listing"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["topic", "status", "-published_at", "-id"], name="case_topic_listing"),
        ),
        migrations.AddIndex(
            model_name="series",
            index=models.Index(
                fields=["modality", "case"],
                condition=models.Q(after_reveal=False, label_confirmed=True),
                name="series_presented_modality",
            ),
        ),
    ]
