"""IngestJob moves to the ingest app: gone from this app's state, its table and rows untouched (the ingest
app's 0001 takes the model over with the same table, cases_ingestjob)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_ingestjob_lease"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IngestJob")],
            database_operations=[],
        ),
    ]
