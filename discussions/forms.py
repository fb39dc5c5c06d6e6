from django import forms

from .models import BODY_LIMIT


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=BODY_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"Keep a comment under {BODY_LIMIT:,} characters (this one has %(show_value)d)."},
        help_text="Markdown: **bold**, *italic*, `code`, lists and links. Paste a viewer link (“Link to view”) to "
        "point at an image.",
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FlagForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)
