from datetime import UTC, datetime, timedelta

from django.db import migrations, models

ROWS = 100


def add_rows(apps, schema_editor):
    Row = apps.get_model("plain_django", "Row")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    Row.objects.bulk_create(
        Row(
            title=f"Row {number}",
            summary=f"Row {number} of the baseline table, with a sentence or two of text as a case card has. " * 2,
            created=start + timedelta(hours=number),
        )
        for number in range(ROWS)
    )


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Row",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("summary", models.TextField()),
                ("created", models.DateTimeField()),
            ],
            options={"ordering": ["-created", "-pk"]},
        ),
        migrations.RunPython(add_rows, migrations.RunPython.noop),
    ]
