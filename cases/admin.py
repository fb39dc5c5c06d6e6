"""The authoring screen: faculty edit their own cases, editors edit and publish all."""

import logging
import weakref

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST
from simple_history.admin import SimpleHistoryAdmin

from . import history, image_check, ingest, revision_views, revisions, services, workflow
from .forms import (
    REVIEW_COMMENTS_LIMIT,
    AnnotationSetForm,
    CaseStatusField,
    DicomUploadForm,
    MultipleFileField,
    ProposedRowsFormSet,
    ReturnForm,
    ReviewDecisionForm,
    StoredTextField,
    mask_rectangles_from_text,
)
from .models import (
    Case,
    CaseFinding,
    CaseReference,
    CaseReview,
    ClassificationGrade,
    ClassificationSystem,
    DifferentialEntry,
    Image,
    IngestJob,
    Series,
    Topic,
    TopicReference,
    TopicSection,
)
from .selectors import annotation_data, case_stage_problems
from .web_images import UnusableImage
from .workflow import StatusChangeRefused

logger = logging.getLogger(__name__)


class OwnCaseMixin:
    """Limit an admin to the cases the user may edit; ``case_path`` leads from the row to its case."""

    case_path = "case"

    def get_queryset(self, request):
        editable = Case.objects.editable_by(request.user)
        return super().get_queryset(request).filter(**{f"{self.case_path}__in": editable})

    def _may_edit(self, request, obj) -> bool:
        if obj is None:
            return True
        case = obj
        for step in self.case_path.split("__"):
            case = getattr(case, step)
        return case.is_editable_by(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_edit(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Case:
            kwargs["queryset"] = Case.objects.editable_by(request.user)
        elif db_field.related_model is Series:
            kwargs["queryset"] = Series.objects.filter(case__in=Case.objects.editable_by(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# The case and its parts keep a history: their text fields store what was typed with the stored line ends.
STORED_TEXT = {models.TextField: {"form_class": StoredTextField}}


class FindingInline(admin.TabularInline):
    model = CaseFinding
    formset = ProposedRowsFormSet
    extra = 0
    fields = ["order", "text"]
    formfield_overrides = {
        models.TextField: {"form_class": StoredTextField, "widget": forms.Textarea(attrs={"rows": 2, "cols": 90})}
    }


class DifferentialInline(admin.StackedInline):
    model = DifferentialEntry
    formset = ProposedRowsFormSet
    formfield_overrides = STORED_TEXT
    extra = 0
    autocomplete_fields = ["topic"]
    fields = [("order", "diagnosis", "topic"), "reasoning"]


class CaseReferenceInline(admin.TabularInline):
    model = CaseReference
    formset = ProposedRowsFormSet
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}, **STORED_TEXT}
    extra = 0
    fields = ["order", "citation", "url"]


STAGE_FIELDS = ["order", "modality", "phase", "plane", "sequence", "technique", "caption", "after_reveal"]


class SeriesInline(admin.TabularInline):
    model = Series
    extra = 0
    fields = [*STAGE_FIELDS, "label_confirmed"]
    show_change_link = True
    ordering = ["order", "pk"]

    # A published case's stages change through an editor (see "Edits to published cases" in docs/decisions.md).
    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and workflow.edits_apply_directly(user=request.user, case=obj)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and workflow.edits_apply_directly(user=request.user, case=obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and workflow.edits_apply_directly(user=request.user, case=obj)


class CaseAdminForm(forms.ModelForm):
    """The case form, with status choices limited to what this user may set (fields come from the admin).

    An editor who moves a case back to draft writes the comments its authors get with it.
    """

    review_comments = forms.CharField(
        label="Comments for the authors",
        required=False,
        max_length=REVIEW_COMMENTS_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Required when you return the case to draft: what should change. The authors see it here.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not workflow.may_return(user=user, case=self.instance):
            del self.fields["review_comments"]
        self.fields["status"] = CaseStatusField(
            user=user,
            current=self.instance.status if self.instance.pk else None,
            initial=self.instance.status,
            help_text="Faculty submit for review; editors publish and retire.",
        )
        if "authors" in self.fields:
            self.fields["authors"].queryset = (
                get_user_model().objects.filter(groups__name__in=["faculty", "editor"]).distinct()
            )

    def clean_status(self):
        status = self.cleaned_data["status"]
        checked = (Case.Status.IN_REVIEW, Case.Status.PUBLISHED)
        if status in checked and self.instance.pk and self.instance.status != status:
            problems = case_stage_problems(self.instance)
            if problems:
                raise forms.ValidationError([str(problem) for problem in problems])
        return status

    def clean(self):
        cleaned = super().clean()
        if "review_comments" not in self.fields:
            return cleaned
        returned = cleaned.get("status") == Case.Status.DRAFT
        comments = cleaned.get("review_comments", "").strip()
        if returned and not comments:
            self.add_error("review_comments", "Write what the authors should change before returning the case.")
        elif comments and not returned:
            self.add_error("review_comments", "Comments go with a return: set the status to Draft, or clear them.")
        return cleaned


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

    actions = ["submit_for_review", "publish", "return_to_draft", "retire"]
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
        if obj is not None:
            context["stage_problems"] = case_stage_problems(obj)
            context["open_revision"] = self._revision_shown(request, obj) or revisions.open_revision(obj)
            context["edits_wait_for_review"] = not workflow.edits_apply_directly(user=request.user, case=obj)
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

    def review_queue_view(self, request):
        """List the cases waiting for review, oldest first, each with a publish and a return form."""
        if not self.has_publish_permission(request):
            raise PermissionDenied
        cases = Case.objects.filter(status=Case.Status.IN_REVIEW).prefetch_related(
            Prefetch("authors", queryset=get_user_model().objects.select_related("profile"))
        )
        cases = cases.order_by(models.F("submitted_at").asc(nulls_first=True), "updated", "pk")
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "Cases to review"}
        context["cases"] = cases
        context["revisions"] = revisions.pending_revisions()
        return TemplateResponse(request, "admin/cases/case/review_queue.html", context)

    def review_decision_view(self, request, pk: int):
        """Publish a case in review, or return it to its authors with comments."""
        if not self.has_publish_permission(request):
            raise PermissionDenied
        case = get_object_or_404(Case, pk=pk, status=Case.Status.IN_REVIEW)
        form = ReviewDecisionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, f"Case {case.number} unchanged: {form.error_text()}", messages.ERROR)
        else:
            try:
                if form.cleaned_data["decision"] == ReviewDecisionForm.PUBLISH:
                    services.case_set_status(
                        case=case, status=Case.Status.PUBLISHED, by=request.user, comments=form.cleaned_data["comments"]
                    )
                else:
                    services.case_return(case=case, by=request.user, comments=form.cleaned_data["comments"])
            except (services.NotReadyToPublish, StatusChangeRefused) as problem:
                self.message_user(request, f"Case {case.number} unchanged: {problem}", messages.ERROR)
            else:
                # The admin capitalises each message's first letter: a case number must not open one.
                outcome = "published" if case.status == Case.Status.PUBLISHED else "returned to its authors as a draft"
                self.message_user(request, f"Case {case.number} is {outcome}.")
        return HttpResponseRedirect(reverse("admin:cases_case_review_queue"))

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
            *revision_views.urls(self.admin_site),
            path("review-queue/", self.admin_site.admin_view(self.review_queue_view), name="cases_case_review_queue"),
            path(
                "review-queue/<int:pk>/",
                self.admin_site.admin_view(require_POST(self.review_decision_view)),
                name="cases_case_review",
            ),
            path("<int:pk>/dicom/", self.admin_site.admin_view(self.dicom_upload_view), name="cases_case_dicom"),
            path(
                "<int:pk>/image-check/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(image_check.image_check_view)),
                name="cases_case_image_check",
            ),
            path(
                "<int:pk>/dicom/<uuid:token>/",
                self.admin_site.admin_view(self.dicom_progress_view),
                name="cases_case_dicom_progress",
            ),
        ]
        return own + super().get_urls()

    def _editable_case(self, request, pk: int) -> Case:
        case = self.get_queryset(request).filter(pk=pk).first()
        if case is None or not self.has_change_permission(request, case):
            raise PermissionDenied
        return case

    def dicom_upload_view(self, request, pk: int):
        """Upload DICOM to a case: spool it now; de-identify and render in the background."""
        case = self._editable_case(request, pk)
        if not workflow.edits_apply_directly(user=request.user, case=case):
            self.message_user(request, revision_views.STAGES_LOCKED, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        form = DicomUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job, names = ingest.ingest_upload(case=case, uploads=form.uploads(), user=request.user)
            # Answered directly, not through messages: file names may carry PHI, and messages can end up in the
            # session table. This page (its script keeps them to name the files of the report) is the only place.
            return self._progress_response(request, case, job, names)
        context = {**self.admin_site.each_context(request), "case": case, "form": form, "opts": self.opts}
        context["title"] = f"Import DICOM into {case.number}"
        return TemplateResponse(request, "admin/cases/case/dicom_upload.html", context)

    def dicom_progress_view(self, request, pk: int, token):
        """Show the progress bar of an import; answer JSON to the page's polling."""
        case = self._editable_case(request, pk)
        job = ingest.ingest_job_checked(job=get_object_or_404(IngestJob, case=case, token=token))
        if request.headers.get("Accept") == "application/json":
            return JsonResponse(ingest.ingest_job_state(job=job))
        return self._progress_response(request, case, job, None)

    def _progress_response(self, request, case: Case, job: IngestJob, names: list[str] | None):
        context = {**self.admin_site.each_context(request), "case": case, "job": job, "opts": self.opts}
        context |= {"title": f"DICOM import into {case.number}", "names": names}
        context["not_imported"] = [
            outcome for outcome in ingest.file_outcomes(job=job, names={}) if outcome.outcome != ingest.IMPORTED
        ]
        context["counts"] = ingest.file_counts(job=job)
        context["progress_url"] = reverse("admin:cases_case_dicom_progress", args=[case.pk, job.token])
        return TemplateResponse(request, "admin/cases/case/dicom_progress.html", context)

    @admin.display(description="Modalities")
    def modalities(self, case: Case) -> str:
        return ", ".join(sorted({series.get_modality_display() for series in case.series.all()}))

    @admin.display(description="Preview")
    def preview_link(self, case: Case) -> str:
        if not case.pk:
            return "Save the case first."
        url = f"{case.get_absolute_url()}?preview=resident"
        return format_html('<a href="{}" target="_blank" rel="noopener">View as resident</a>', url)


class ImageForm(forms.ModelForm):
    upload = forms.FileField(
        required=False,
        allow_empty_file=True,  # refused in clean_upload, with the file's name
        help_text="PNG or JPEG. Metadata is removed and the file is stored under a random name.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )

    mask_rectangles = forms.CharField(
        required=False,
        max_length=2000,
        label="Mask",
        help_text="Rectangles to black out, in image pixels: “x,y,width,height; …”. Use “Draw mask”.",
        widget=forms.TextInput(attrs={"class": "mask-rectangles", "size": 18}),
    )

    class Meta:
        model = Image
        fields = ["order", "upload", "caption", "alt_text", "pixel_spacing_mm", "is_key", "held_for_review"]

    def clean_mask_rectangles(self) -> list[list[int]]:
        text = self.cleaned_data["mask_rectangles"]
        if text.strip() and not self.instance.pk:
            raise forms.ValidationError("Save the image first, then mask it.")
        return mask_rectangles_from_text(text, width=self.instance.width, height=self.instance.height)

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if not upload:
            if not self.instance.pk:
                raise forms.ValidationError("Choose a PNG or JPEG file.")
            return None
        try:
            self.prepared = services.image_prepare(upload)
        except UnusableImage as error:
            raise forms.ValidationError(f"{upload.name}: {error}") from error
        return upload

    def save(self, commit=True):
        image = super().save(commit=False)
        if getattr(self, "prepared", None) is not None:
            services.image_set_files(image=image, prepared=self.prepared)
        if commit:
            image.save()
        return image


class ImageInline(admin.TabularInline):
    model = Image
    form = ImageForm
    extra = 0

    class Media:
        js = [forms.Script("js/mask.js", type="module"), forms.Script("js/annotate.js", type="module")]
        css = {"all": ["css/mask.css", "css/annotate.css"]}

    fields = [
        "thumbnail_preview",
        "order",
        "upload",
        "caption",
        "alt_text",
        "pixel_spacing_mm",
        "is_key",
        "held_for_review",
        "mask_rectangles",
        "annotations_button",
    ]
    readonly_fields = ["thumbnail_preview", "annotations_button"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(annotation_count=Count("annotations"))

    @admin.display(description="Image")
    def thumbnail_preview(self, image: Image) -> str:
        if not image.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt=""></a>',
            image.file.url,
            (image.thumbnail or image.file).url,
        )

    @admin.display(description="Annotations")
    def annotations_button(self, image: Image) -> str:
        if not image.pk:
            return "Save the image first."
        return format_html(
            '<button type="button" class="button annotate-open" aria-haspopup="dialog" data-url="{}" data-src="{}">'
            "Annotations ({})</button>",
            reverse("admin:cases_image_annotations", args=[image.pk]),
            reverse("cases:media-file", args=[image.file.name]),
            image.annotation_count,
        )


class SeriesAdminForm(forms.ModelForm):
    add_images = MultipleFileField(
        label="Add images",
        help_text="Choose several PNG or JPEG files at once. Usable files are added in the order chosen; "
        "any that cannot be used are listed with the reason.",
    )


@admin.register(Series)
class SeriesAdmin(OwnCaseMixin, admin.ModelAdmin):
    form = SeriesAdminForm
    autocomplete_fields = ["case"]
    list_display = ["__str__", "case", "order", "modality", "phase", "after_reveal"]
    list_filter = ["modality", "after_reveal"]
    list_select_related = ["case"]
    inlines = [ImageInline]
    fields = ["case", *STAGE_FIELDS, "study_day", "label_confirmed", "add_images"]
    # Per request being saved: the stage and the pictures to add once its form's transaction has committed.
    uploads_to_add: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.edits_apply_directly(user=request.user, case=obj.case))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or workflow.edits_apply_directly(user=request.user, case=obj.case))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.related_model is Case and not request.user.has_perm("cases.publish_case"):
            field.queryset = field.queryset.exclude(status__in=workflow.LIVE)  # their stages change through an editor
        return field

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for image in formset.deleted_objects:
            services.image_delete(image=image)
        for image in formset.new_objects + [changed for changed, _ in formset.changed_objects]:
            image.save()
        for image_form in formset.forms:
            rectangles = image_form.cleaned_data.get("mask_rectangles") if image_form.cleaned_data else None
            if rectangles and not image_form.cleaned_data.get("DELETE"):
                services.image_apply_masks(image=image_form.instance, rectangles=rectangles)

    def delete_model(self, request, obj):
        services.series_delete(series=obj)

    def delete_queryset(self, request, queryset):
        for series in queryset:
            services.series_delete(series=series)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Decoding pictures is slow: they are added once the form's transaction has committed (changeform_view).
        self.uploads_to_add[request] = (form.instance, form.cleaned_data.get("add_images") or [])

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        series, uploads = self.uploads_to_add.pop(request, (None, []))
        if uploads:
            rejected = services.series_add_images(series=series, uploads=uploads)
            added = len(uploads) - len(rejected)
            if added:
                messages.success(request, f"Added {added} image{pluralize(added)}.")
            for name, reason in rejected:
                messages.error(request, f"Not added: {name} — {reason}")
        return response

    def get_model_perms(self, request):
        # Reached from the case's stage list, not from the index.
        return {}

    def get_urls(self):
        view = require_http_methods(["GET", "POST"])(self.image_annotations_view)
        own = [
            path("image/<int:pk>/annotations/", self.admin_site.admin_view(view), name="cases_image_annotations"),
        ]
        return own + super().get_urls()

    def image_annotations_view(self, request, pk: int):
        """Answer an image's annotations as JSON to the editor; replace them all with the posted ones."""
        image = get_object_or_404(Image.objects.select_related("series__case"), pk=pk)
        if not self.has_view_permission(request, image.series):
            raise Http404
        if request.method == "POST":
            if not self.has_change_permission(request, image.series):
                return HttpResponseForbidden(revision_views.STAGES_LOCKED, content_type="text/plain; charset=utf-8")
            form = AnnotationSetForm({"body": request.body.decode("utf-8", errors="replace")})
            if not form.is_valid():
                message = " ".join(form.errors["body"])
                logger.warning("Refused annotations for image %s from user %s: %r", image.pk, request.user.pk, message)
                return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
            services.image_set_annotations(image=image, annotations=form.cleaned_data["body"])
        annotations = [annotation_data(mark) | {"after_reveal": mark.after_reveal} for mark in image.annotations.all()]
        return JsonResponse({"annotations": annotations})

    def response_change(self, request, obj):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return self._back_to_case(obj)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return self._back_to_case(obj)
        return super().response_add(request, obj, post_url_continue)

    def _back_to_case(self, series: Series):
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[series.case_id]))


class TopicSectionInline(admin.StackedInline):
    model = TopicSection
    extra = 0


class ClassificationInline(admin.TabularInline):
    model = ClassificationSystem
    extra = 0
    show_change_link = True


class TopicReferenceInline(admin.TabularInline):
    model = TopicReference
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "updated"]
    search_fields = ["name", "synonyms"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TopicSectionInline, ClassificationInline, TopicReferenceInline]


class GradeInline(admin.TabularInline):
    model = ClassificationGrade
    extra = 0


@admin.register(ClassificationSystem)
class ClassificationSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "topic"]
    inlines = [GradeInline]

    def get_model_perms(self, request):
        # Reached from the topic page, not from the index.
        return {}


def view_on_site(request, content_type_id: int, object_id: str):
    """Open an object's page from the admin, as Django's shortcut does, only if the admin would show it to this
    user: the shortcut would otherwise name a colleague's draft (its number is in the address it redirects to)."""
    content_type = get_object_or_404(ContentType, pk=content_type_id)
    model = content_type.model_class()
    if model is None or not admin.site.is_registered(model):
        raise Http404
    model_admin = admin.site.get_model_admin(model)
    try:
        obj = model_admin.get_queryset(request).filter(pk=unquote(object_id)).first()
    except (ValueError, ValidationError):
        obj = None
    if obj is None or not (
        model_admin.has_view_permission(request, obj) or model_admin.has_change_permission(request, obj)
    ):
        raise Http404
    return shortcut(request, content_type_id, object_id)
