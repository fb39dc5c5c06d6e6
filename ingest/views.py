"""The import pages of the authoring screen (wired by the case screen): upload DICOM to a case (spooled now,
imported in the background) and follow its progress; the author's inbox of drafts the DICOM receiver made, and
the choice of the draft the author's next studies are added to."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cases import workflow
from cases.admin.access import STAGES_LOCKED, editable_case, page_context
from cases.models import Case

from .forms import DicomUploadForm, RouteDestinationForm
from .models import IngestJob, ReceivedStudy, ReceiverRoute
from .outcomes import IMPORTED, file_counts, file_outcomes
from .routes import route_destination_set
from .summary import case_stage_numbers, import_summary
from .upload import ingest_upload
from .watch import ingest_job_checked, ingest_job_state


def dicom_upload_view(request, pk: int):
    """Upload DICOM to a case: spool it now; de-identify and render in the background."""
    case = editable_case(request, pk)
    if not workflow.edits_apply_directly(user=request.user, case=case):
        messages.error(request, STAGES_LOCKED)
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
    form = DicomUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job, names = ingest_upload(case=case, uploads=form.uploads(), user=request.user)
        # Answered directly, not through messages: file names may carry PHI, and messages can end up in the
        # session table. This page (its script keeps them to name the files of the report) is the only place.
        return _progress_response(request, case, job, names)
    context = page_context(request, title=f"Import DICOM into {case.number}", case=case, form=form)
    return TemplateResponse(request, "admin/cases/case/dicom_upload.html", context)


def dicom_progress_view(request, pk: int, token):
    """Show the progress bar of an import; answer JSON to the page's polling."""
    case = editable_case(request, pk)
    job = ingest_job_checked(job=get_object_or_404(IngestJob, case=case, token=token))
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(ingest_job_state(job=job))
    return _progress_response(request, case, job, None)


def import_report_context(*, case: Case, job: IngestJob) -> dict:
    """Return what ``import_report.html`` shows of a job: its summary in words and its files' outcomes."""
    return {
        "job": job,
        "summary": import_summary(job=job, stage_numbers=case_stage_numbers(case)),
        "not_imported": [outcome for outcome in file_outcomes(job=job, names={}) if outcome.outcome != IMPORTED],
        "counts": file_counts(job=job),
        "progress_url": reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token]),
    }


def _progress_response(request, case: Case, job: IngestJob, names: list[str] | None):
    context = page_context(
        request,
        title=f"DICOM import into {case.number}",
        case=case,
        names=names,
        **import_report_context(case=case, job=job),
    )
    return TemplateResponse(request, "admin/cases/case/dicom_progress.html", context)


@require_GET
def received_inbox_view(request):
    """List the drafts the DICOM receiver made for this author, newest first, each opening its authoring page."""
    if not request.user.has_perm("cases.add_case"):
        raise PermissionDenied
    received = ReceivedStudy.objects.inbox_of(request.user)[:200]
    routes = list(request.user.receiver_routes.filter(active=True).select_related("destination"))
    context = page_context(request, title="Studies received from the PACS", received=received, routes=routes)
    return TemplateResponse(request, "admin/ingest/received_inbox.html", context)


def receiver_routes_for(*, user, case: Case) -> list[ReceiverRoute]:
    """Return the user's active routes whose studies may be sent to this case (a draft they may edit), or []."""
    if case.status != Case.Status.DRAFT or not case.is_editable_by(user):  # the user is each route's author
        return []
    return list(user.receiver_routes.filter(active=True))


@require_POST
def receiver_destination_view(request, pk: int):
    """Send route ``pk``'s next studies to the posted draft, or (none posted) each to a new draft."""
    route = get_object_or_404(ReceiverRoute.objects.select_related("author"), pk=pk)
    form = RouteDestinationForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied  # a case number that does not exist: no page of ours posts one
    case = form.cleaned_data["case"]
    route_destination_set(route=route, case=case, by=request.user)
    if case is None:
        messages.success(request, f"Studies sent to {route.ae_title} will each become a new draft.")
    else:
        messages.success(request, f"Studies sent to {route.ae_title} will be added to draft {case.number}.")
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:cases_case_received")
    return HttpResponseRedirect(target)
