"""The case screen: the case form with its findings, differential and references, and the workflow actions.

Its URLs also carry the plain views of the other case pages (review queue, revisions, DICOM import, check page).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST
from simple_history.admin import SimpleHistoryAdmin

from ingest.views import (
    dicom_progress_view,
    dicom_upload_view,
    import_report_context,
    received_inbox_view,
    receiver_destination_view,
    receiver_routes_for,
)
from packages import views as package_views

from .. import history, revisions, services, workflow
from ..forms import ProposedRowsFormSet, ReturnForm
from ..models import Case, CaseReview, Series
from ..selectors import case_stage_problems
from ..workflow import StatusChangeRefused
from . import revision_review
from .access import STORED_TEXT, OwnCaseMixin
from .case_form import CaseAdminForm, CaseReferenceInline, DifferentialInline, FindingInline
from .image_check import confirm_labels_view, image_check_view
from .new_case import CaseFromStudyForm, case_from_study_view
from .review import review_decision_view, review_queue_view
from .stages import SeriesInline


@admin.register(Case)
class CaseAdmin(OwnCaseMixin, SimpleHistoryAdmin):
    case_path = "pk"
    form = CaseAdminForm
    formfield_overrides = STORED_TEXT
    list_display = ["number", "title", "status", "difficulty", "modalities", "updated", "preview_link"]
    list_filter = ["status", "access", "region", "difficulty"]
    search_fields = ["number", "title", "diagnosis", "keywords"]
    readonly_fields = ["preview_link", "published_at"]
    filter_horizontal = ["authors"]
    inlines = [SeriesInline, FindingInline, DifferentialInline, CaseReferenceInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "title",
                    "status",
                    "review_comments",
                    "access",
                    "preview_link",
                    "published_at",
                    "authors",
                    "credit",
                ]
            },
        ),
        (
            "Shown before the reveal",
            {
                "fields": [
                    ("patient_age_years", "patient_sex"),
                    ("region", "difficulty", "quality"),
                    "brief_history",
                ]
            },
        ),
        (
            "Hidden until the reveal",
            {
                "fields": [
                    "full_history",
                    ("diagnosis", "topic"),
                    "discussion",
                    "management",
                    "rehabilitation",
                    "teaching_points",
                    ("acr_anatomy", "acr_pathology"),
                    "keywords",
                ]
            },
        ),
    ]

    actions = ["submit_for_review", "publish", "return_to_draft", "retire", package_views.export_packages]
    object_history_template = "admin/cases/case/object_history.html"
    object_history_list_template = "admin/cases/case/object_history_list.html"

    def get_queryset(self, request):
        return Case.objects.editable_by(request.user).prefetch_related("series", "authors")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if workflow.may_return(user=request.user, case=obj):
            return fieldsets
        first, options = fieldsets[0]
        fields = [name for name in options["fields"] if name != "review_comments"]
        return [(first, {**options, "fields": fields}), *fieldsets[1:]]

    def has_delete_permission(self, request, obj=None):
        # Only drafts may be deleted by their authors: published cases carry residents' reveals; retire them.
        allowed = super().has_delete_permission(request, obj)
        if obj is None or request.user.has_perm("cases.publish_case"):
            return allowed
        return allowed and obj.status == Case.Status.DRAFT

    def delete_model(self, request, obj):
        services.case_delete(case=obj)

    def delete_queryset(self, request, queryset):
        for case in queryset:
            services.case_delete(case=case)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Series:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for series in formset.deleted_objects:
            services.series_delete(series=series)
        for series in formset.new_objects + [changed for changed, _ in formset.changed_objects]:
            series.save()
        return None

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm("cases.publish_case")

    def _set_status(self, request, queryset, status: str, comments: str = "") -> None:
        changed = refused = 0
        for case in queryset:
            try:
                services.case_set_status(case=case, status=status, by=request.user, comments=comments)
            except (services.NotReadyToPublish, StatusChangeRefused) as problem:
                refused += 1
                self.message_user(request, f"Case {case.number} unchanged: {problem}", messages.ERROR)
            else:
                changed += 1
        if changed or not refused:
            level = messages.SUCCESS if changed else messages.WARNING
            self.message_user(
                request, f"{changed} case{pluralize(changed)} now {Case.Status(status).label.lower()}.", level
            )

    def save_model(self, request, obj, form, change):
        if change and not workflow.edits_apply_directly(user=request.user, case=obj):
            return  # readers keep the case as it is: save_related holds the changes as a revision
        status = obj.status
        if "status" in form.changed_data:
            # Saved as it was, then moved by the workflow service, which records the review and tells who should know.
            obj.status = form.initial.get("status") or Case.Status.DRAFT
        super().save_model(request, obj, form, change)
        if obj.status != status:
            comments = form.cleaned_data.get("review_comments", "")
            services.case_set_status(case=obj, status=status, by=request.user, comments=comments)

    def save_related(self, request, form, formsets, change):
        if change and not workflow.edits_apply_directly(user=request.user, case=form.instance):
            data = revisions.form_values(form, formsets)
            revisions.case_revision_propose(case=form.instance, by=request.user, data=data)
            return
        super().save_related(request, form, formsets, change)
        if not change:
            form.instance.authors.add(request.user)

    def construct_change_message(self, request, form, formsets, add=False):
        if not add and not workflow.edits_apply_directly(user=request.user, case=form.instance):
            return "Proposed changes for an editor's review."
        return super().construct_change_message(request, form, formsets, add)

    def response_change(self, request, obj):
        if workflow.edits_apply_directly(user=request.user, case=obj):
            return super().response_change(request, obj)
        if obj.revisions.filter(status=revisions.CaseRevision.Status.PENDING).exists():
            message = f"Your changes to {obj.number} wait for an editor's review; readers still see the published case."
        else:
            message = f"Nothing differs from the published case {obj.number}: there is nothing to review."
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[obj.pk]))

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if issubclass(inline.formset, ProposedRowsFormSet):
            revision = self._revision_shown(request, obj)
            name = inline.model._meta.get_field("case").remote_field.related_name
            kwargs["proposed"] = revision.data.get(name) if revision is not None else None
        return kwargs

    def _revision_shown(self, request, obj) -> revisions.CaseRevision | None:
        """Return the open revision the form shows in place of the case (an author's view), once per request."""
        if workflow.edits_apply_directly(user=request.user, case=obj):
            return None
        if not hasattr(request, "case_revision_shown"):
            request.case_revision_shown = revisions.open_revision(obj)
        return request.case_revision_shown

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if add:
            context["study_form"] = CaseFromStudyForm(prefix="study")
        if obj is not None:
            last_import = obj.ingest_jobs.order_by("-created").first()
            context["last_import"] = last_import and import_report_context(case=obj, job=last_import)
            context["stage_problems"] = problems = case_stage_problems(obj)
            context["unconfirmed_stages"] = [problem for problem in problems if not problem.label_confirmed]
            context["open_revision"] = self._revision_shown(request, obj) or revisions.open_revision(obj)
            context["edits_wait_for_review"] = not workflow.edits_apply_directly(user=request.user, case=obj)
            context["pacs_routes"] = receiver_routes_for(user=request.user, case=obj)
            reviews = list(obj.reviews.select_related("editor__profile"))
            context["reviews"] = reviews
            latest = reviews[0] if reviews else None
            if obj.status == Case.Status.DRAFT and latest and latest.decision == CaseReview.Decision.RETURNED:
                context["returned_review"] = latest
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_review": self.has_publish_permission(request)}
        return super().changelist_view(request, extra_context)

    def revert_disabled(self, request, obj=None):
        return True

    def history_view(self, request, object_id, extra_context=None):
        # The package filters on the id as given: a path like "1/change/history/" must be a 404, not a 500.
        if not unquote(object_id).isdigit():
            raise Http404("No such case.")
        return super().history_view(request, object_id, extra_context)

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # Each row names who made the change by their display name.
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return queryset.select_related("history_user__profile")

    def render_history_view(self, request, template, context, **kwargs):
        if template == self.object_history_template:
            # Reached once the package has checked the permission; it lists the case's own fields, we its parts.
            context["part_changes"] = history.case_part_changes(context["object"])
            case = context["object"]
            case_revisions = case.revisions.select_related("author__profile", "editor__profile")
            context["revisions"] = revisions.revision_changes(case_revisions, case=case)
        return super().render_history_view(request, template, context, **kwargs)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Read only: reverting would save an old status past the workflow's checks.
        if request.method != "GET":
            raise PermissionDenied
        if not (unquote(object_id).isdigit() and unquote(version_id).isdigit()):
            raise Http404("No such version.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    @admin.action(description="Submit selected cases for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        self._set_status(request, queryset.filter(status=Case.Status.DRAFT), Case.Status.IN_REVIEW)

    @admin.action(description="Publish selected cases", permissions=["publish"])
    def publish(self, request, queryset):
        self._set_status(request, queryset.exclude(status=Case.Status.PUBLISHED), Case.Status.PUBLISHED)

    @admin.action(description="Return selected cases to their authors, with comments", permissions=["publish"])
    def return_to_draft(self, request, queryset):
        """Ask for the comments on a page of its own, then return every selected case with them."""
        queryset = queryset.exclude(status=Case.Status.DRAFT)
        form = ReturnForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._set_status(request, queryset, Case.Status.DRAFT, comments=form.cleaned_data["comments"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Return cases to their authors",
            "cases": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/case/return_to_draft.html", context)

    @admin.action(description="Retire selected cases (kept for links, no longer listed)", permissions=["publish"])
    def retire(self, request, queryset):
        self._set_status(request, queryset.filter(status=Case.Status.PUBLISHED), Case.Status.RETIRED)

    def _may_edit(self, request, obj) -> bool:
        return obj is None or obj.is_editable_by(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        revision = self._revision_shown(request, obj)
        proposed = revisions.proposed_fields(revision)

        class FormForUser(form):
            def __init__(self, *args, **inner):
                # An author's open revision shows in place of the published values.
                inner["initial"] = {**proposed, **(inner.get("initial") or {})}
                super().__init__(*args, user=request.user, **inner)

        return FormForUser

    def get_urls(self):
        own = [
            *revision_review.urls(self.admin_site),
            *package_views.urls(self.admin_site),
            path("review-queue/", self.admin_site.admin_view(review_queue_view), name="cases_case_review_queue"),
            path(
                "review-queue/<int:pk>/",
                self.admin_site.admin_view(require_POST(review_decision_view)),
                name="cases_case_review",
            ),
            path("<int:pk>/dicom/", self.admin_site.admin_view(dicom_upload_view), name="cases_case_dicom"),
            path("received/", self.admin_site.admin_view(received_inbox_view), name="cases_case_received"),
            path(
                "received/route/<int:pk>/",
                self.admin_site.admin_view(receiver_destination_view),
                name="cases_case_receiver_destination",
            ),
            path(
                "from-study/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(case_from_study_view)),
                name="cases_case_from_study",
            ),
            path(
                "<int:pk>/image-check/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(image_check_view)),
                name="cases_case_image_check",
            ),
            path(
                "<int:pk>/confirm-labels/",
                self.admin_site.admin_view(require_POST(confirm_labels_view)),
                name="cases_case_confirm_labels",
            ),
            path(
                "<int:pk>/dicom/<uuid:token>/",
                self.admin_site.admin_view(dicom_progress_view),
                name="cases_case_dicom_progress",
            ),
        ]
        return own + super().get_urls()

    @admin.display(description="Modalities")
    def modalities(self, case: Case) -> str:
        return ", ".join(sorted({series.get_modality_display() for series in case.series.all()}))

    @admin.display(description="Preview")
    def preview_link(self, case: Case) -> str:
        if not case.pk:
            return "Save the case first."
        url = f"{case.get_absolute_url()}?preview=resident"
        return format_html('<a href="{}" target="_blank" rel="noopener">View as resident</a>', url)
