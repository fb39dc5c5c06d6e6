"""The case form: status choices limited to what the user may set, the comments of a return, and the answer
lists (findings, differential, references) as rows under it."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.html import format_html

from .. import drafts, workflow
from ..forms import REVIEW_COMMENTS_LIMIT, CaseStatusField, ProposedRowsFormSet, StoredTextField
from ..models import Case, CaseFinding, CaseReference, DifferentialEntry
from ..selectors import case_stage_problems
from .access import STORED_TEXT


class FindingInline(admin.TabularInline):
    model = CaseFinding
    formset = ProposedRowsFormSet
    extra = 0
    fields = ["order", "text", "image_link"]
    readonly_fields = ["image_link"]
    formfield_overrides = {
        models.TextField: {"form_class": StoredTextField, "widget": forms.Textarea(attrs={"rows": 2, "cols": 90})}
    }

    @admin.display(description="Image link")
    def image_link(self, finding: CaseFinding) -> str:
        """The view the finding points at, opened on the case page, where "Link a view" sets it."""
        query = finding.view_query if finding.pk else ""
        if not query:
            return "None (set it on the case page: Link a view)"
        return format_html('<a href="{}">Show on the image</a>', finding.case.get_absolute_url() + query)


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
        self._refuse_placeholders(cleaned)
        if "review_comments" not in self.fields:
            return cleaned
        returned = cleaned.get("status") == Case.Status.DRAFT
        comments = cleaned.get("review_comments", "").strip()
        if returned and not comments:
            self.add_error("review_comments", "Write what the authors should change before returning the case.")
        elif comments and not returned:
            self.add_error("review_comments", "Comments go with a return: set the status to Draft, or clear them.")
        return cleaned

    def _refuse_placeholders(self, cleaned: dict) -> None:
        """A case started from a study goes to review only once its placeholder text has been written over."""
        moving = cleaned.get("status") in (Case.Status.IN_REVIEW, Case.Status.PUBLISHED)
        if not moving or cleaned.get("status") == self.instance.status:
            return
        for name in drafts.PLACEHOLDERS:
            if name in self.fields and drafts.is_placeholder(cleaned.get(name, "")):
                self.add_error(name, "Still the placeholder: write it before the case is submitted.")
