from django.shortcuts import render

from .models import Row


def rows(request):
    """List the latest 40 rows."""
    return render(request, "rows.html", {"rows": Row.objects.all()[:40]})
