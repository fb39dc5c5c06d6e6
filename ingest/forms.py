"""The DICOM upload form (files, zip archives or a whole folder) and the choice of where a route's studies go."""

from django import forms

from cases.forms import MultipleFileField
from cases.models import Case


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


class RouteDestinationForm(forms.Form):
    """The draft a route's next studies are added to; empty for a new draft per study (checked by ``routes``)."""

    case = forms.ModelChoiceField(queryset=Case.objects.all(), required=False)
    next = forms.CharField(required=False)
