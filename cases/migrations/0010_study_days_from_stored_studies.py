"""Count every imported stage's day from its case's first study, not from the first study of its upload batch.

Imports before this counted from the earliest study of each upload, so two uploads of one patient both began at
day 0. The study dates are read again from each stage's stored (de-identified, date-shifted) DICOM header; no
form let authors set a day before this, so no correction is overwritten. Stages without a readable date keep
theirs, unless it lies beyond a century (then none); a date a century before the case's latest gives none.
"""

import datetime

import pydicom
from django.core.files.storage import default_storage
from django.db import migrations
from django.db.models import Q

DATE_KEYWORDS = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
STUDY_DAY_LIMIT = 36_500  # cases.models.STUDY_DAY_LIMIT when this was written


def _study_date(name: str) -> datetime.date | None:
    try:
        with default_storage.open(name, "rb") as handle:
            header = pydicom.dcmread(handle, stop_before_pixels=True)
    except (OSError, pydicom.errors.InvalidDicomError):
        return None
    for keyword in DATE_KEYWORDS:
        try:
            return datetime.datetime.strptime(str(header.get(keyword) or "").strip(), "%Y%m%d").date()
        except ValueError:
            continue
    return None


def count_from_the_first_study(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Series = apps.get_model("cases", "Series")
    Image = apps.get_model("cases", "Image")
    dates_by_case: dict[int, dict[int, datetime.date]] = {}
    imported = Series.objects.exclude(series_uid="").values_list("pk", "case_id")
    for series_pk, case_pk in imported.iterator():
        first = Image.objects.filter(series_id=series_pk).exclude(dicom_file="").order_by("order", "pk").first()
        study_date = _study_date(first.dicom_file.name) if first else None
        if study_date is not None:
            dates_by_case.setdefault(case_pk, {})[series_pk] = study_date
    for case_pk, dates in dates_by_case.items():
        # A date a century before the case's latest study is an archive's placeholder (19000101), not day 0.
        latest = max(dates.values())
        plausible = {pk: day for pk, day in dates.items() if (latest - day).days <= STUDY_DAY_LIMIT}
        zero = min(plausible.values())
        Case.objects.filter(pk=case_pk).update(study_day_zero=zero)
        for series_pk, study_date in dates.items():
            day = (study_date - zero).days if series_pk in plausible else None
            Series.objects.filter(pk=series_pk).update(study_day=day)
    # Days the per-batch count stored that no date recounts may lie beyond the constraint the next migration adds.
    outside = Q(study_day__gt=STUDY_DAY_LIMIT) | Q(study_day__lt=-STUDY_DAY_LIMIT)
    Series.objects.filter(outside).update(study_day=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_study_day_per_case"),
    ]

    operations = [
        migrations.RunPython(count_from_the_first_study, migrations.RunPython.noop),
    ]
