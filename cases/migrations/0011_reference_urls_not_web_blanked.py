from django.db import migrations
from django.db.models import Q

WEB = Q(url="") | Q(url__istartswith="http://") | Q(url__istartswith="https://")


def blank_urls_not_web(apps, schema_editor):
    """Blank reference URLs that are not web addresses (javascript:, data:, ftp:…): the citation stays."""
    for name in ("CaseReference", "TopicReference"):
        apps.get_model("cases", name).objects.exclude(WEB).update(url="")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_study_days_from_stored_studies"),
    ]

    operations = [
        migrations.RunPython(blank_urls_not_web, migrations.RunPython.noop),
    ]
