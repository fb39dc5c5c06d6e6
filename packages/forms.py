from django import forms
from django.conf import settings


class PackageImportForm(forms.Form):
    package = forms.FileField(
        label="Package (.zip)",
        help_text="A teaching-file package exported by this or another site, or a MIRC document zip. It becomes a new "
        "draft of yours; nothing is published.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean_package(self):
        package = self.cleaned_data["package"]
        limit = settings.TEACHINGFILE_MAX_ARCHIVE_BYTES
        if package.size > limit:
            raise forms.ValidationError(f"The file is larger than {limit / 1024**2:,.0f} MB, the limit for a package.")
        return package
