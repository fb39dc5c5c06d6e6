"""The authoring screen: faculty edit their own cases, editors edit and publish all."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .forms import CaseStatusField
from .models import (
    Case,
    CaseFinding,
    CaseReference,
    ClassificationGrade,
    ClassificationSystem,
    DifferentialEntry,
    Image,
    Series,
    Topic,
    TopicReference,
    TopicSection,
)
from .web_images import UnusableImage


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


class FindingInline(admin.TabularInline):
    model = CaseFinding
    extra = 0
    fields = ["order", "text"]
    formfield_overrides = {
        CaseFinding._meta.get_field("text").__class__: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 90})}
    }


class DifferentialInline(admin.StackedInline):
    model = DifferentialEntry
    extra = 0
    fields = [("order", "diagnosis", "topic"), "reasoning"]


class CaseReferenceInline(admin.TabularInline):
    model = CaseReference
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0
    fields = ["order", "citation", "url"]


class SeriesInline(admin.TabularInline):
    model = Series
    extra = 0
    fields = ["order", "modality", "phase", "plane", "sequence", "technique", "caption", "after_reveal"]
    show_change_link = True
    ordering = ["order", "pk"]


class CaseAdminForm(forms.ModelForm):
    """The case form, with status choices limited to what this user may set (fields come from the admin)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
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


@admin.register(Case)
class CaseAdmin(OwnCaseMixin, admin.ModelAdmin):
    case_path = "pk"
    form = CaseAdminForm
    list_display = ["number", "title", "status", "difficulty", "modalities", "updated", "preview_link"]
    list_filter = ["status", "region", "difficulty"]
    search_fields = ["number", "title", "diagnosis", "keywords"]
    readonly_fields = ["preview_link", "published_at"]
    filter_horizontal = ["authors"]
    inlines = [SeriesInline, FindingInline, DifferentialInline, CaseReferenceInline]
    fieldsets = [
        (None, {"fields": ["number", "title", "status", "preview_link", "published_at", "authors", "credit"]}),
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

    def get_queryset(self, request):
        return Case.objects.editable_by(request.user).prefetch_related("series", "authors")

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm("cases.publish_case")

    def _set_status(self, request, queryset, status: str) -> None:
        for case in queryset:
            services.case_set_status(case=case, status=status)
        self.message_user(request, f"{queryset.count()} case(s) now {Case.Status(status).label.lower()}.")

    @admin.action(description="Submit selected cases for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        self._set_status(request, queryset.filter(status=Case.Status.DRAFT), Case.Status.IN_REVIEW)

    @admin.action(description="Publish selected cases", permissions=["publish"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, Case.Status.PUBLISHED)

    @admin.action(description="Return selected cases to draft", permissions=["publish"])
    def return_to_draft(self, request, queryset):
        self._set_status(request, queryset, Case.Status.DRAFT)

    @admin.action(description="Retire selected cases (kept for links, no longer listed)", permissions=["publish"])
    def retire(self, request, queryset):
        self._set_status(request, queryset, Case.Status.RETIRED)

    def _may_edit(self, request, obj) -> bool:
        return obj is None or obj.is_editable_by(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class FormForUser(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=request.user, **inner)

        return FormForUser

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            form.instance.authors.add(request.user)

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

    class Meta:
        model = Image
        fields = ["order", "upload", "caption", "alt_text", "pixel_spacing_mm"]

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload is None:
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
    fields = ["thumbnail_preview", "order", "upload", "caption", "alt_text", "pixel_spacing_mm"]
    readonly_fields = ["thumbnail_preview"]

    @admin.display(description="Image")
    def thumbnail_preview(self, image: Image) -> str:
        if not image.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt="" style="max-height:90px;background:#000"></a>',
            image.file.url,
            image.thumbnail.url,
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is validated later, one by one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg"}))
        super().__init__(required=False, allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


class SeriesAdminForm(forms.ModelForm):
    add_images = MultipleFileField(
        label="Add images",
        help_text="Choose several PNG or JPEG files at once. Usable files are added in the order chosen; "
        "any that cannot be used are listed with the reason.",
    )


@admin.register(Series)
class SeriesAdmin(OwnCaseMixin, admin.ModelAdmin):
    form = SeriesAdminForm
    list_display = ["__str__", "order", "modality", "phase", "after_reveal"]
    list_filter = ["modality", "after_reveal"]
    list_select_related = ["case"]
    inlines = [ImageInline]
    fields = [
        "case",
        "order",
        "modality",
        "phase",
        "plane",
        "sequence",
        "technique",
        "caption",
        "after_reveal",
        "add_images",
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        uploads = form.cleaned_data.get("add_images") or []
        rejected = services.series_add_images(series=form.instance, uploads=uploads)
        added = len(uploads) - len(rejected)
        if added:
            messages.success(request, f"Added {added} image{pluralize(added)}.")
        for name, reason in rejected:
            messages.error(request, f"Not added: {name} — {reason}")

    def get_model_perms(self, request):
        # Reached from the case's stage list, not from the index.
        return {}

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
