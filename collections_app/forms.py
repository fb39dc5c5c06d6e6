from django import forms

from .models import Collection


class AddToCollectionForm(forms.Form):
    """A case page's "add to my collection": one of the reader's own collections, or a new one by its name."""

    collection = forms.ModelChoiceField(queryset=Collection.objects.none(), required=False, empty_label="New list…")
    title = forms.CharField(max_length=200, required=False, strip=True, label="Name of the new list")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(
            owner=owner, visibility=Collection.Visibility.PRIVATE
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("collection") and not cleaned.get("title"):
            raise forms.ValidationError("Choose one of your collections, or name a new one.")
        return cleaned
