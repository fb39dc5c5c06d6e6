from django import forms

from .models import Case, Modality, Rating, Region, Reveal, Series


class CaseFilterForm(forms.Form):
    """The filters of the case list; every field is optional."""

    q = forms.CharField(label="Search", required=False, max_length=100)
    modality = forms.ChoiceField(choices=[("", "Any modality"), *Modality.choices], required=False)
    region = forms.ChoiceField(choices=[("", "Any region"), *Region.choices], required=False)
    difficulty = forms.TypedChoiceField(
        choices=[("", "Any difficulty"), *Rating.choices], coerce=int, empty_value=None, required=False
    )

    def filter(self, queryset):
        """Return the queryset narrowed by the valid filters."""
        data = self.cleaned_data
        if data.get("q"):
            queryset = queryset.search(data["q"])
        if data.get("modality"):
            presented = Series.objects.presented().filter(modality=data["modality"])
            queryset = queryset.filter(pk__in=presented.values("case"))
        if data.get("region"):
            queryset = queryset.filter(region=data["region"])
        if data.get("difficulty"):
            queryset = queryset.filter(difficulty=data["difficulty"])
        return queryset


class RevealForm(forms.Form):
    committed_answer = forms.CharField(
        label="Your diagnosis",
        required=False,
        max_length=Reveal._meta.get_field("committed_answer").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Type your diagnosis (optional)"}),
    )


class AssessmentForm(forms.Form):
    self_assessment = forms.ChoiceField(choices=Reveal.Assessment.choices[1:])


class CaseStatusField(forms.ChoiceField):
    """Status choices limited to what this author may set."""

    def __init__(self, *, user, current: str | None, **kwargs):
        allowed = [Case.Status.DRAFT, Case.Status.IN_REVIEW]
        if user.has_perm("cases.publish_case"):
            allowed = list(Case.Status)
        if current and current not in allowed:
            allowed.append(Case.Status(current))
        super().__init__(choices=[(status.value, status.label) for status in allowed], **kwargs)
