from django import forms

from cases.models import Reveal


class AnswerForm(forms.Form):
    """One answer as the question page posts it; which fields matter depends on the question's kind."""

    question = forms.IntegerField(min_value=1)
    option = forms.IntegerField(min_value=0, max_value=4, required=False, help_text="Position as shown.")
    text = forms.CharField(max_length=200, required=False, strip=True)
    x = forms.FloatField(min_value=0, max_value=1, required=False)
    y = forms.FloatField(min_value=0, max_value=1, required=False)
    slice = forms.IntegerField(min_value=1, max_value=10_000, required=False)


class CaseReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (Reveal.Assessment.CORRECT, "I got it"),
            (Reveal.Assessment.PARTIAL, "Partly"),
            (Reveal.Assessment.MISSED, "I missed it"),
        ]
    )
