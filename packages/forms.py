from django import forms


class PackageImportForm(forms.Form):
    package = forms.FileField(
        label="Package (.zip)",
        help_text="A teaching-file package exported by this or another site, or a MIRC document zip. It becomes a new "
        "draft of yours; nothing is published.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
