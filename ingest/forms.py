"""The DICOM upload form: files, zip archives or a whole folder."""

from django import forms

from cases.forms import MultipleFileField


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
