"""The words of the visible text, for correcting a misspelt search (PostgreSQL only; issue 16 §2).

Matching a misspelt word against every case's text reads the long trigram lists of common letters in the whole
table (330 ms at 100,000 cases); matching it against the few thousand distinct words of that text, then
searching for the word found, costs a few milliseconds at any size. A trigger keeps the table: words are added as
cases are written, never removed (a word that no case holds any more corrects a search that then finds nothing).
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE TABLE cases_search_word (word text PRIMARY KEY)",
    "CREATE INDEX case_search_word_trigram ON cases_search_word USING gin (word gin_trgm_ops)",
    """CREATE FUNCTION cases_search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO cases_search_word (word)
            SELECT unnest(tsvector_to_array(to_tsvector('simple', NEW.title || ' ' || NEW.brief_history)))
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER cases_case_search_words AFTER INSERT OR UPDATE OF title, brief_history ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_search_words_add()""",
    """INSERT INTO cases_search_word (word)
        SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('simple', title || ' ' || brief_history)))
        FROM cases_case
    ON CONFLICT DO NOTHING""",
]
POSTGRESQL_BACK = [
    "DROP TRIGGER IF EXISTS cases_case_search_words ON cases_case",
    "DROP FUNCTION IF EXISTS cases_search_words_add()",
    "DROP TABLE IF EXISTS cases_search_word",
]


def run(statements: list[str]):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0020_case_search"),
    ]

    operations = [migrations.RunPython(run(POSTGRESQL), run(POSTGRESQL_BACK))]
