"""Background work of the case domain, run by the task worker (``manage.py db_worker``)."""

from django_tasks import task

from .models import Series
from .values import series_prepare_values


@task()
def prepare_viewer_values(series_ids: list[int]) -> int:
    """Prepare the viewer values of imported stages, sparing their first reader the wait; return how many."""
    return sum(series_prepare_values(series=series) for series in Series.objects.filter(pk__in=series_ids))
