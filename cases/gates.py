"""Gates of a staged work-up: the reader's answer to the question after a stage, checked and kept.

Which stages a reader may see, given their answers, is read in ``selectors`` (``ReaderState``,
``series_behind_gate``); the gates themselves are ``models.Gate``.
"""

import logging
from collections.abc import Sequence

from django import forms
from django.db import IntegrityError, transaction
from django.forms import BoundField

from .forms import RevealForm, StoredTextField
from .models import DIFFERENTIAL_ENTRIES, GATE_TEXT_LIMIT, Gate, GateAnswer, GateOption

logger = logging.getLogger(__name__)


class GateAnswerForm(RevealForm):
    """A reader's answer to a gate, by its kind: an impression, one of the author's options, or a differential.

    ``answer_fields()`` gives what ``gate_answer`` keeps.
    """

    text = StoredTextField(
        label="Your impression so far",
        required=False,
        max_length=GATE_TEXT_LIMIT,  # counted as stored, a line end as one character, as the textarea counts it
        error_messages={
            "max_length": "Your impression is too long: keep it to %(limit_value)d characters (it has %(show_value)d)."
        },
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    # Its choices are the gate's: never rendered as a blank widget kept for every form (BlankFieldOnce).
    option = forms.TypedChoiceField(
        label="Your next step", required=False, coerce=int, empty_value=None, bound_field_class=BoundField
    )

    def __init__(self, *args, gate: Gate, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["committed_answer"]
        self.gate = gate
        self.fields["option"].choices = [(option.number, option.text) for option in gate.option_list]

    def clean(self):
        cleaned = super().clean()
        kind = self.gate.kind
        if kind == Gate.Kind.IMPRESSION and not " ".join(cleaned.get("text", "").split()):
            raise forms.ValidationError("Write your impression so far before you go on.")
        if kind == Gate.Kind.NEXT_STEP and cleaned.get("option") is None and "option" not in self.errors:
            raise forms.ValidationError("Choose what you would do next before you go on.")
        if kind == Gate.Kind.DIFFERENTIAL and not cleaned["differential"] and not self.errors:
            raise forms.ValidationError("Enter at least one diagnosis of your differential before you go on.")
        return cleaned

    def answer_fields(self) -> dict:
        """Return what to keep for the gate's kind (the rest of what was posted is dropped)."""
        data, kind = self.cleaned_data, self.gate.kind
        if kind == Gate.Kind.NEXT_STEP:
            return {"option": self.gate.option_list[data["option"] - 1]}
        if kind == Gate.Kind.DIFFERENTIAL:
            return {"differential": data["differential"]}
        return {"text": data["text"].strip()}


def gate_answer(
    *,
    gate: Gate,
    user=None,
    session_key: str = "",
    text: str = "",
    option: GateOption | None = None,
    differential: Sequence[str] = (),
) -> GateAnswer:
    """Keep this reader's answer to a gate; the first answer is kept, as a reveal keeps the first committed answer.

    ``text``: the impression; ``option``: the option chosen (its text is kept, and whether its own line is
    marked as the author's choice); ``differential``: up to three diagnoses.
    """
    reader = (
        {"user": user} if user is not None and user.is_authenticated else {"user": None, "session_key": session_key}
    )
    fields = {
        "text": (option.text if option is not None else text)[:GATE_TEXT_LIMIT],
        "chose_authors_option": option is not None and option.is_choice,
        "differential": list(differential)[:DIFFERENTIAL_ENTRIES],
    }
    try:
        with transaction.atomic():
            answer, created = GateAnswer.objects.get_or_create(gate=gate, **reader, defaults=fields)
    except IntegrityError:
        # Two answers raced; the other one won.
        answer, created = GateAnswer.objects.get(gate=gate, **reader), False
    if created:
        logger.info("Gate %s of case %s answered", gate.pk, gate.series.case_id)
    return answer
