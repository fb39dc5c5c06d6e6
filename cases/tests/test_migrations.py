"""Data migrations on databases made before them."""

import importlib

from django.apps import apps

from cases.models import STUDY_DAY_LIMIT, Case, Series
from ingest.tests.test_pipeline import case, ct_study, import_batch, study_days  # noqa: F401 -- case is a fixture

recount = importlib.import_module("cases.migrations.0010_study_days_from_stored_studies")


def test_recounting_days_leaves_a_placeholder_date_a_century_away_without_a_day(case, tmp_path):  # noqa: F811
    """Imports before per-case days could store any day; the recount must fit the day constraint, not fail."""
    import_batch(case, tmp_path / "one", ct_study("19000101", 1), ct_study("20200301", 2), ct_study("20200401", 3))
    Series.objects.filter(case=case).update(study_day=0)  # as the per-batch count left them
    Case.objects.filter(pk=case.pk).update(study_day_zero=None)
    recount.count_from_the_first_study(apps, None)
    assert study_days(case) == [None, 0, 31]
    assert all(abs(day) <= STUDY_DAY_LIMIT for day in study_days(case) if day is not None)
