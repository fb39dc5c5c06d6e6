"""The authoring screen's package pages: export a case, export the selected cases (an action), import a zip.

Plain views the case screen wires into its URLs (``urls``) and actions (``export_packages``); each checks on the
server who may do it: exporting needs the right to edit every case exported, importing the right to add cases.
"""

import logging
import tempfile

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from cases.admin.access import editable_case, page_context

from .archive import PackageRefused
from .export import package_name, package_write
from .forms import PackageImportForm
from .importer import package_import

logger = logging.getLogger(__name__)


def _zip_response(cases: list) -> FileResponse:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response once it is sent
    package_write(cases=cases, handle=handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=package_name(cases), content_type="application/zip")


@require_GET
def case_package_view(request, pk: int):
    """Download one case as a package: its authors and the editors only."""
    return _zip_response([editable_case(request, pk)])


@admin.action(description="Export selected cases as a package (.zip)", permissions=["change"])
def export_packages(modeladmin, request, queryset):
    """Download the selected cases (those this user may edit: the queryset is the case screen's) as one zip."""
    cases = [case for case in queryset.order_by("number") if modeladmin.has_change_permission(request, case)]
    if not cases:
        raise PermissionDenied
    return _zip_response(cases)


@require_http_methods(["GET", "POST"])
def package_import_view(request):
    """Upload a package or a MIRC zip; it becomes new drafts of the importer, or is refused whole with a reason."""
    if not request.user.has_perm("cases.add_case"):
        raise PermissionDenied
    form = PackageImportForm(request.POST or None, request.FILES or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            result = package_import(handle=form.cleaned_data["package"], by=request.user)
        except PackageRefused as error:
            logger.warning("Package import refused for user %s: %s", request.user.pk, error.logged)
            refusal = str(error)
        else:
            numbers = ", ".join(case.number for case in result.cases)
            messages.success(request, f"Imported the {result.kind} as draft {numbers}. Nothing is published.")
            for note in result.notes:
                messages.warning(request, note)
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[result.cases[0].pk]))
    context = page_context(request, title="Import a package", form=form, refusal=refusal)
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "admin/packages/package_import.html", context, status=status)


def urls(site) -> list:
    """The package pages, under the case screen's URLs."""
    return [
        path("import-package/", site.admin_view(package_import_view), name="cases_case_package_import"),
        path("<int:pk>/package/", site.admin_view(case_package_view), name="cases_case_package"),
    ]
