"""Background work of the case domain, run by the task worker (``manage.py db_worker``)."""

from django_tasks import task

from .models import Series
from .renditions import series_page_pictures
from .values import series_prepare_values


@task()
def prepare_viewer_values(series_ids: list[int]) -> int:
    """Prepare the viewer values of imported stages, sparing their first reader the wait; return how many."""
    prepared = 0
    for series in Series.objects.filter(pk__in=series_ids):
        prepared += series_prepare_values(series=series)
        if series.window_preset:  # an imported stage has none until its author picks one; a re-import may
            series_page_pictures(series=series)
    return prepared
