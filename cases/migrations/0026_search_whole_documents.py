"""The whole search document of every case, stored (PostgreSQL; issue 16 §2).

A reader's revealed cases are searched whole: number, title, brief history, diagnosis, keywords and findings.
Parsing that text per revealed case per search cost 10–16 ms for 200 reveals at 100,000 cases; stored, it is one
lookup by case per reveal. ``cases_case_full_document`` holds one ``tsvector`` per case, kept by triggers on the
case and on its findings (a generated column cannot read another table), as SQLite's ``cases_case_full_fts``
is (migration 0020). It has no GIN index on purpose: it is only ever read by case id, for the cases a reader
revealed, so that what a search costs here follows the reader's reveals and never the catalogue.

No foreign key: Django's test runner empties ``cases_case`` with ``TRUNCATE``, which a referencing table it does
not know would refuse. A row left behind by such a truncation is replaced when a case takes its id again, and is
never read otherwise (reveals name existing cases).
"""

from django.db import migrations

# The same text, in the same order, that cases/search.py parsed per search before.
POSTGRESQL = [
    "CREATE TABLE cases_case_full_document (case_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    """CREATE FUNCTION cases_full_document_refresh(target bigint) RETURNS void LANGUAGE sql AS $$
        DELETE FROM cases_case_full_document WHERE case_id = target;
        INSERT INTO cases_case_full_document (case_id, document)
        SELECT c.id, to_tsvector('english'::regconfig, concat_ws(' ', c.number, c.title, c.brief_history,
            c.diagnosis, c.keywords, (
                SELECT string_agg(f.text, ' ' ORDER BY f."order", f.id) FROM cases_casefinding f WHERE f.case_id = c.id
            )))
        FROM cases_case c WHERE c.id = target;
    $$""",
    """CREATE FUNCTION cases_case_full_document_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM cases_case_full_document WHERE case_id = OLD.id;
        ELSE
            PERFORM cases_full_document_refresh(NEW.id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION cases_casefinding_full_document_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM cases_full_document_refresh(OLD.case_id);
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.case_id <> OLD.case_id) THEN
            PERFORM cases_full_document_refresh(NEW.case_id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER cases_case_search_full_insert AFTER INSERT ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_case_full_document_keep()""",
    # A save() writes every column: parse again only when the searched text changed.
    """CREATE TRIGGER cases_case_search_full_update AFTER UPDATE ON cases_case FOR EACH ROW
    WHEN ((OLD.number, OLD.title, OLD.brief_history, OLD.diagnosis, OLD.keywords)
        IS DISTINCT FROM (NEW.number, NEW.title, NEW.brief_history, NEW.diagnosis, NEW.keywords))
    EXECUTE FUNCTION cases_case_full_document_keep()""",
    """CREATE TRIGGER cases_case_search_full_delete AFTER DELETE ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_case_full_document_keep()""",
    """CREATE TRIGGER cases_casefinding_search_full AFTER INSERT OR DELETE OR UPDATE OF text, case_id
    ON cases_casefinding FOR EACH ROW EXECUTE FUNCTION cases_casefinding_full_document_keep()""",
    "SELECT cases_full_document_refresh(id) FROM cases_case",
]
POSTGRESQL_BACK = [
    "DROP TRIGGER IF EXISTS cases_casefinding_search_full ON cases_casefinding",
    "DROP TRIGGER IF EXISTS cases_case_search_full_delete ON cases_case",
    "DROP TRIGGER IF EXISTS cases_case_search_full_update ON cases_case",
    "DROP TRIGGER IF EXISTS cases_case_search_full_insert ON cases_case",
    "DROP FUNCTION IF EXISTS cases_casefinding_full_document_keep()",
    "DROP FUNCTION IF EXISTS cases_case_full_document_keep()",
    "DROP FUNCTION IF EXISTS cases_full_document_refresh(bigint)",
    "DROP TABLE IF EXISTS cases_case_full_document",
]


def run(statements: list[str]):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0025_gate_history"),
    ]

    operations = [migrations.RunPython(run(POSTGRESQL), run(POSTGRESQL_BACK))]
