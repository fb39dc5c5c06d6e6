"""The stage screens: a case's stages as cards of the case form, and one stage with its images."""

import weakref

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from quizzes.models import Question

from .. import masking, renditions, services, workflow
from ..forms import MultipleFileField
from ..models import Case, Gate, Image, Series
from .access import OwnCaseMixin
from .annotations import image_annotations_view
from .images import ImageInline

STAGE_FIELDS = [
    "order",
    "modality",
    "phase",
    "plane",
    "sequence",
    "technique",
    "window_preset",
    "caption",
    "after_reveal",
]


# What a stage's card on the case page lets the author change; the rest is on the stage's own page.
CARD_FIELDS = ["order", "modality", "phase", "plane", "study_day", "caption", "after_reveal", "label_confirmed"]


def _values(series: Series) -> dict:
    return {"order": series.order, "label_confirmed": series.label_confirmed, "after_reveal": series.after_reveal}


def questions_closed(*, case_id: int | None, stages: dict, deleted: frozenset = frozenset()) -> list[str]:
    """Return the keys of the quiz questions whose stage readers see before any gate now, and would not once
    the case's stages take these values (by stage id, None for a new one: order, the two flags, gated).

    A quiz question shows its stage to residents who answer no gate (``Series.objects.open()``).
    """
    if case_id is None:
        return []
    gate = Gate.objects.filter(series=OuterRef("pk"))
    stored = Series.objects.filter(case_id=case_id).annotate(gated=Exists(gate))
    rows = {row["pk"]: row for row in stored.values("pk", "order", "label_confirmed", "after_reveal", "gated")}
    for pk, values in stages.items():
        rows[pk] = {**rows.get(pk, {"gated": False}), **values, "pk": pk}
    rows = {pk: row for pk, row in rows.items() if pk not in deleted}
    then_open = set()
    for row in sorted(rows.values(), key=lambda row: (row["order"], row["pk"] is None, row["pk"] or 0)):
        if row["label_confirmed"] and not row["after_reveal"]:
            then_open.add(row["pk"])
        if row["gated"]:
            break
    now_open = Series.objects.open().filter(case_id=case_id).exclude(pk__in=then_open | deleted)
    questions = Question.objects.filter(Q(series__in=now_open) | Q(image__series__in=now_open))
    return list(questions.order_by("key").values_list("key", flat=True).distinct())


class StageCardsFormSet(forms.BaseInlineFormSet):
    """The case's stage cards: a gated stage stays before the reveal, and no move or flag puts a quiz question's
    stage behind a gate (dragged into a new order, or hidden)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        stages, deleted = {}, set()
        for form in self.forms:
            cleaned = form.cleaned_data
            if not cleaned or form.instance.pk is None and not form.has_changed():
                continue
            if cleaned.get("DELETE"):
                deleted.add(form.instance.pk)
                continue
            gated = form.instance.pk is not None and hasattr(form.instance, "gate")  # read with the stage
            if gated and cleaned.get("after_reveal"):
                form.add_error(
                    "after_reveal",
                    "This stage has a gate after it: readers see it before the reveal. Remove the gate on the "
                    "stage's page first.",
                )
            values = {name: cleaned.get(name) for name in ("order", "label_confirmed", "after_reveal")}
            stages[form.instance.pk] = values | {"gated": gated}
        held = questions_closed(case_id=self.instance.pk, stages=stages, deleted=frozenset(deleted))
        if held:
            raise forms.ValidationError(
                f"Quiz questions use images of stages this would put behind a gate or hide ({', '.join(held)}): "
                "residents could not see them. Move those questions to another stage first."
            )


class SeriesInline(admin.TabularInline):
    """The case's stages as cards: key image, label, held images; dragged (or moved by buttons) into order."""

    model = Series
    formset = StageCardsFormSet
    extra = 0
    fields = CARD_FIELDS
    show_change_link = True
    ordering = ["order", "pk"]
    template = "admin/cases/case/stage_cards.html"

    class Media:
        js = ["js/stage_cards.js"]
        css = {"all": ["css/authoring.css"]}

    def get_queryset(self, request):
        key = Image.objects.filter(series=OuterRef("pk")).order_by("-is_key", "order", "pk")
        return (
            super()
            .get_queryset(request)
            .select_related("gate")
            .annotate(
                held=Count("images", filter=Q(images__held_for_review=True)),
                image_count=Count("images"),
                key_thumbnail=Subquery(key.values("thumbnail")[:1]),
                key_file=Subquery(key.values("file")[:1]),
            )
        )

    # A published case's stages change through an editor (see "Edits to published cases" in docs/decisions.md).
    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and workflow.edits_apply_directly(user=request.user, case=obj)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and workflow.edits_apply_directly(user=request.user, case=obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and workflow.edits_apply_directly(user=request.user, case=obj)


class GateForm(forms.ModelForm):
    """A gate after the stage; the model's ``clean`` refuses it after a stage shown only after the reveal, and a
    "next step" gate without its options. Here: refused in front of a stage a quiz question shows."""

    class Meta:
        model = Gate
        fields = ["kind", "question", "options", "reasoning"]
        widgets = {"options": forms.Textarea(attrs={"rows": 5}), "reasoning": forms.Textarea(attrs={"rows": 4})}

    def clean(self):
        cleaned = super().clean()
        series = self.fields["series"].parent_instance  # the stage as its own form just cleaned it
        if cleaned.get("DELETE"):
            return cleaned
        held = questions_closed(case_id=series.case_id, stages={series.pk: _values(series) | {"gated": True}})
        if held:
            raise forms.ValidationError(
                f"Quiz questions use images of the stages after this one ({', '.join(held)}): residents could not "
                "see them before answering this gate. Move those questions to an earlier stage first."
            )
        return cleaned


class GateInline(admin.StackedInline):
    """The question readers answer after this stage before the next stages are sent to them."""

    model = Gate
    form = GateForm
    extra = 0
    max_num = 1
    verbose_name = "gate after this stage"
    verbose_name_plural = "gate after this stage (readers answer it before the next stages are shown)"

    def has_add_permission(self, request, obj):
        allowed = super().has_add_permission(request, obj)
        return allowed and (obj is None or workflow.edits_apply_directly(user=request.user, case=obj.case))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or workflow.edits_apply_directly(user=request.user, case=obj.case))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or workflow.edits_apply_directly(user=request.user, case=obj.case))


class SeriesAdminForm(forms.ModelForm):
    add_images = MultipleFileField(
        label="Add images",
        help_text="Choose several PNG or JPEG files at once. Usable files are added in the order chosen; "
        "any that cannot be used are listed with the reason.",
    )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and self.has_changed():
            values = {name: cleaned.get(name) for name in ("order", "label_confirmed", "after_reveal")}
            held = questions_closed(case_id=self.instance.case_id, stages={self.instance.pk: values})
            if held:
                raise forms.ValidationError(
                    f"Quiz questions use images of stages this would put behind a gate or hide ({', '.join(held)}): "
                    "residents could not see them. Move those questions to another stage first."
                )
        return cleaned


@admin.register(Series)
class SeriesAdmin(OwnCaseMixin, admin.ModelAdmin):
    form = SeriesAdminForm
    autocomplete_fields = ["case"]
    list_display = ["__str__", "case", "order", "modality", "phase", "after_reveal"]
    list_filter = ["modality", "after_reveal"]
    list_select_related = ["case"]
    inlines = [GateInline, ImageInline]
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
        if formset.model is not Image:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for image in formset.deleted_objects:
            services.image_delete(image=image)
        for image in formset.new_objects + [changed for changed, _ in formset.changed_objects]:
            image.save()
        for image_form in formset.forms:
            rectangles = image_form.cleaned_data.get("mask_rectangles") if image_form.cleaned_data else None
            if rectangles and not image_form.cleaned_data.get("DELETE"):
                masking.image_apply_masks(image=image_form.instance, rectangles=rectangles)

    def delete_model(self, request, obj):
        services.series_delete(series=obj)

    def delete_queryset(self, request, queryset):
        for series in queryset:
            services.series_delete(series=series)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "window_preset" in form.changed_data:  # the page shows the stage in the window it opens in
            renditions.series_page_pictures(series=form.instance)
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
        view = require_http_methods(["GET", "POST"])(image_annotations_view)
        own = [
            path("image/<int:pk>/annotations/", self.admin_site.admin_view(view), name="cases_image_annotations"),
        ]
        return own + super().get_urls()

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
