from django import forms

from .models import Modality, Rating, Region, Reveal, Series
from .workflow import allowed_statuses


class CaseFilterForm(forms.Form):
    """The filters of the case list; every field is optional."""

    q = forms.CharField(label="Search", required=False, max_length=100)
    modality = forms.ChoiceField(choices=[("", "Any modality"), *Modality.choices], required=False)
    region = forms.ChoiceField(choices=[("", "Any region"), *Region.choices], required=False)
    difficulty = forms.TypedChoiceField(
        choices=[("", "Any difficulty"), *Rating.choices], coerce=int, empty_value=None, required=False
    )

    def filter(self, queryset):
        """Return the queryset narrowed by the filters that were understood."""
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
    """Status choices limited to the workflow moves this user may make."""

    def __init__(self, *, user, current: str | None, **kwargs):
        allowed = allowed_statuses(current=current, user=user)
        super().__init__(choices=[(status.value, status.label) for status in allowed], **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is validated later, one by one."""

    def __init__(self, *, accept: str = "image/png,image/jpeg", directory: bool = False, **kwargs):
        attrs = {"accept": accept} if accept else {}
        if directory:
            attrs["webkitdirectory"] = True
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        super().__init__(required=False, allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


class DicomUploadForm(forms.Form):
    files = MultipleFileField(
        label="DICOM files or zip archives",
        accept="",
        help_text="Select many files at once, or zip archives exported from PACS.",
    )
    folder = MultipleFileField(
        label="…or a whole folder",
        accept="",
        help_text="Every file in the folder and its sub-folders.",
        directory=True,
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("files") and not cleaned.get("folder"):
            raise forms.ValidationError("Choose DICOM files, zip archives or a folder.")
        return cleaned

    def uploads(self) -> list:
        return [*self.cleaned_data.get("files", []), *self.cleaned_data.get("folder", [])]
