"""The authoring screen for quizzes: the question bank, quizzes, and each quiz's cohort results."""

import csv
import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cases.models import Case

from . import services
from .models import UNPUBLISHED, Option, Question, Quiz, QuizQuestion
from .picker import NOT_YOURS, case_picker_data, pick_problem
from .selectors import cohort_results, quiz_text_naming_its_cases

logger = logging.getLogger(__name__)


class OptionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.kind != Question.Kind.SINGLE_BEST:
            return
        kept = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        if len(kept) != 5:
            raise forms.ValidationError("A single-best-answer question has exactly five options.")
        if sum(bool(form.cleaned_data.get("is_correct")) for form in kept) != 1:
            raise forms.ValidationError("Mark exactly one option as correct.")


class OptionInline(admin.TabularInline):
    model = Option
    formset = OptionFormSet
    extra = 5
    max_num = 5
    fields = ["order", "text", "is_correct", "rationale"]

    def _answered(self, obj) -> bool:
        return obj is not None and obj.responses.exists()

    # Once residents have answered, the options are their scored answers: write a new question instead.
    def has_change_permission(self, request, obj=None):
        return not self._answered(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not self._answered(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._answered(obj) and super().has_delete_permission(request, obj)


class AuthoredMixin:
    """Everyone on the authoring screen may read the bank; authors change their own, editors all."""

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return (
            obj is None
            or request.user.has_perm("quizzes.edit_any_quiz")
            or obj.authors.filter(pk=request.user.pk).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            obj.authors.add(request.user)


NOT_YOURS_DRAFT = "A case not yet published can be named only by its authors and editors."
UNPUBLISHED_IN_QUIZ = "Residents cannot see the case of {questions} yet: publish the case, or take the question out."

PICKED_FIELDS = ["image", "series", "target_shape", "target_x", "target_y", "target_radius", "target_points"]


class QuestionAdminForm(forms.ModelForm):
    """The picker (static/js/question-picker.js) fills the image, the stage and the target drawn on it."""

    PICKED = PICKED_FIELDS
    author = None  # the user saving, set by QuestionAdmin.get_form

    class Meta:
        model = Question
        fields = ["key", "kind", "topic", "stem", "explanation", "case", *PICKED_FIELDS, "slice_from", "slice_to"]
        widgets = dict.fromkeys(PICKED_FIELDS, forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "target_shape" in self.fields:  # left out by a form posted without the picker: the model's default
            self.fields["target_shape"].required = False

    def clean(self):
        cleaned = super().clean()
        case = cleaned.get("case")
        if "case" in self.changed_data and case and case.status in UNPUBLISHED and not case.is_editable_by(self.author):
            self.add_error("case", NOT_YOURS_DRAFT)
        if "image" in self.changed_data and cleaned.get("image") and not cleaned.get("case"):
            self.add_error("case", "Choose the case first, then pick one of its images.")
        for name in ("image", "series"):
            problem = name in self.changed_data and pick_problem(user=self.author, picked=cleaned.get(name))
            if problem:
                logger.warning(
                    "Refused a picked %s for question %s by user %s", name, self.instance.pk or "(new)", self.author.pk
                )
                self.add_error(name, problem)
        return cleaned

    def add_error(self, field, error):
        """Report problems of the hidden fields the picker fills above the form, where the author sees them."""
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                super().add_error(None if name in self.PICKED else name, errors)
            return
        super().add_error(None if field in self.PICKED else field, error)


@admin.register(Question)
class QuestionAdmin(AuthoredMixin, admin.ModelAdmin):
    form = QuestionAdminForm
    list_display = ["key", "kind", "topic", "case"]
    list_filter = ["kind", "topic"]
    search_fields = ["key", "stem"]
    raw_id_fields = ["case"]
    readonly_fields = ["picker"]
    inlines = [OptionInline]

    class Media:
        css = {"all": ["css/question-picker.css"]}
        js = [forms.Script("js/question-picker.js", type="module")]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"author": request.user})

    def get_urls(self):
        own = [
            path(
                "case-images/<int:case_pk>/",
                self.admin_site.admin_view(self.case_images_view),
                name="quizzes_question_case_images",
            )
        ]
        return own + super().get_urls()

    def case_images_view(self, request, case_pk: int):
        """The picker's data: the stages and images of a case the author may edit."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        case = get_object_or_404(Case, pk=case_pk)
        if not case.is_editable_by(request.user):
            return JsonResponse({"error": NOT_YOURS}, status=403)
        return JsonResponse(case_picker_data(case=case))

    @admin.display(description="Pick")
    def picker(self, obj) -> str:
        template = reverse("admin:quizzes_question_case_images", args=[0])
        return format_html(
            '<div class="question-picker" data-url="{}"><p class="question-picker-status" role="status" '
            'aria-live="polite">Choose the case first: its images appear here.</p></div>',
            template,
        )

    def save_formset(self, request, form, formsets, change):
        """Save the options not marked correct first: only one may be correct at any moment."""
        if formsets.model is not Option:
            return super().save_formset(request, form, formsets, change)
        options = formsets.save(commit=False)
        for option in formsets.deleted_objects:
            option.delete()
        for option in sorted(options, key=lambda option: option.is_correct):
            option.save()
        return None

    fieldsets = [
        (None, {"fields": ["key", "kind", "topic", "stem", "explanation"]}),
        (
            "Case, image and target",
            {
                "fields": [
                    "case",
                    "picker",
                    *PICKED_FIELDS,
                    ("slice_from", "slice_to"),
                ],
                "description": "Single best answer: click an image to show it with the stem (optional). Click the "
                "finding: click the stage, then draw the target on its slice — drag for a circle, or click the "
                "corners of a polygon. The shaded area is what counts as correct.",
            },
        ),
    ]


class QuizQuestionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """A published quiz holds no question whose case is a draft or in review: it would be served without it."""
        super().clean()
        if not self.instance.is_published:
            return
        kept = [
            form.cleaned_data["question"]
            for form in self.forms
            if form.cleaned_data.get("question") and not form.cleaned_data.get("DELETE")
        ]
        waiting = [question.key for question in kept if question.case_id and question.case.status in UNPUBLISHED]
        if waiting:
            logger.info("Refused to publish quiz %s: questions of unpublished cases", self.instance.pk or "(new)")
            raise forms.ValidationError(UNPUBLISHED_IN_QUIZ.format(questions=", ".join(sorted(waiting))))


class QuizQuestionInline(admin.TabularInline):
    model = QuizQuestion
    formset = QuizQuestionFormSet
    extra = 1
    autocomplete_fields = ["question"]
    fields = ["order", "question"]


class QuizAdminForm(forms.ModelForm):
    add_cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.published(),
        required=False,
        widget=admin.widgets.FilteredSelectMultiple("cases", is_stacked=False),
        help_text="Each case is added at the end as an unknown: the resident types the diagnosis.",
    )

    class Meta:
        model = Quiz
        fields = [
            "slug",
            "title",
            "description",
            "mode",
            "time_limit_minutes",
            "shuffle_questions",
            "shuffle_options",
            "is_published",
            "opens_at",
            "closes_at",
            "groups",
        ]


@admin.register(Quiz)
class QuizAdmin(AuthoredMixin, admin.ModelAdmin):
    form = QuizAdminForm
    list_display = ["title", "mode", "is_published", "opens_at", "closes_at", "results_link"]
    list_filter = ["is_published", "mode"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["groups"]
    inlines = [QuizQuestionInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # Only cases every reader of the site may open: never a private one.
        form.base_fields["add_cases"].queryset = Case.objects.published().exclude(access=Case.Access.PRIVATE)
        return form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        cases = form.cleaned_data.get("add_cases") or []
        if cases:
            services.quiz_add_unknowns(quiz=form.instance, cases=cases, by=request.user)
        named = quiz_text_naming_its_cases(form.instance)
        if named:
            messages.warning(
                request,
                "The quiz's address, title or description names what its cases are ("
                + ", ".join(named)
                + "): residents read it before they answer. Reword it.",
            )

    def get_urls(self):
        own = [
            path("<int:pk>/results/", self.admin_site.admin_view(self.results_view), name="quizzes_quiz_results"),
            path("<int:pk>/results.csv", self.admin_site.admin_view(self.results_csv), name="quizzes_quiz_results_csv"),
        ]
        return own + super().get_urls()

    @admin.display(description="Cohort results")
    def results_link(self, quiz: Quiz) -> str:
        return format_html('<a href="{}">Results</a>', reverse("admin:quizzes_quiz_results", args=[quiz.pk]))

    def _quiz_for_results(self, request, pk: int) -> Quiz:
        quiz = get_object_or_404(Quiz, pk=pk)
        if not quiz.is_editable_by(request.user):
            raise PermissionDenied
        return quiz

    def results_view(self, request, pk: int):
        """Score distribution, each question's difficulty and discrimination, and the most chosen wrong answers."""
        quiz = self._quiz_for_results(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "quiz": quiz,
            "opts": self.model._meta,
            "title": f"Cohort results: {quiz.title}",
            **cohort_results(quiz),
        }
        return TemplateResponse(request, "admin/quizzes/quiz/results.html", context)

    def results_csv(self, request, pk: int):
        """One row per finished attempt: who, when, score, and each question right (1) or not (0)."""
        quiz = self._quiz_for_results(request, pk)
        results = cohort_results(quiz)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{quiz.slug}-results.csv"'
        writer = csv.writer(response)
        writer.writerow(["user", "started", "finished", "score", *[item["question"].key for item in results["items"]]])
        for row in results["rows"]:
            writer.writerow(
                [
                    row["attempt"].user.get_username(),
                    row["attempt"].started_at.isoformat(),
                    row["attempt"].finished_at.isoformat(),
                    f"{row['attempt'].score:.3f}",
                    *[int(correct) for correct in row["correct"]],
                ]
            )
        return response
