from django import forms

from .models import BODY_LIMIT, Comment


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=BODY_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"Keep a comment under {BODY_LIMIT:,} characters (this one has %(show_value)d)."},
        help_text="Markdown: **bold**, *italic*, `code`, lists and links. A link to an image of the case (“Point "
        "at an image”, or the viewer's “Link to view”) opens the viewer there.",
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case

    def clean_parent(self) -> Comment | None:
        """The comment replied to: one of this case's, not deleted."""
        pk = self.cleaned_data["parent"]
        if not pk:
            return None
        parent = Comment.objects.filter(pk=pk, case=self.case, is_deleted=False).first()
        if parent is None:
            raise forms.ValidationError("The comment you replied to is gone: your text is below, post it anew.")
        return parent


class FlagForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)
