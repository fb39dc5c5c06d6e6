"""Gates of a staged work-up: a question after a stage that the reader answers before the next stages are sent."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .reveals import ReaderQuerySet
from .stages import Series

GATE_TEXT_LIMIT = 1000  # a reader's impression so far
CHOICE_MARK = "*"  # an option line starting with it is the author's choice


@dataclass(frozen=True)
class GateOption:
    """One option of a "what would you do next?" gate, numbered from 1 in the author's order."""

    number: int
    text: str
    is_choice: bool


class GateQuerySet(models.QuerySet):
    def before(self, series: Series) -> "GateQuerySet":
        """Return the gates on the way to this stage of its case (the stage's own gate is not one).

        Every gate counts, whatever its own stage's flags: a stage unconfirmed or marked "shown after reveal"
        keeps its gate in front of the stages after it (fail closed).
        """
        earlier = Q(series__order__lt=series.order) | Q(series__order=series.order, series__pk__lt=series.pk)
        return self.filter(earlier, series__case_id=series.case_id)


class Gate(models.Model):
    """A question the reader answers after a stage before the server sends the stages that follow it."""

    class Kind(models.TextChoices):
        IMPRESSION = "impression", "Impression so far (free text)"
        NEXT_STEP = "next_step", "What would you do next? (options you write)"
        DIFFERENTIAL = "differential", "Top-3 differential"

    series = models.OneToOneField(
        Series,
        on_delete=models.CASCADE,
        related_name="gate",
        help_text="The stage after which readers stop and answer. Only stages shown before the reveal.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.IMPRESSION)
    question = models.CharField(
        max_length=300,
        blank=True,
        help_text="Shown to readers before they answer: never name the diagnosis or the next study's findings. "
        "Empty: the kind's own question.",
    )
    options = models.TextField(
        blank=True,
        help_text="For “What would you do next?”: one option a line, at least two; start the line of your "
        f"choice (one or more) with {CHOICE_MARK}, e.g. “{CHOICE_MARK}CT of the pelvis”. Readers see the options "
        "without the mark.",
    )
    reasoning = models.TextField(
        help_text="Your reasoning for this step (“why CT next: …”), shown beside the reader's answer only after "
        "the final reveal.",
    )

    objects = GateQuerySet.as_manager()
    history = HistoricalRecords()  # on the case's History page with its stage (cases.history)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="next_step") | Q(options__contains=CHOICE_MARK), name="gate_next_step_has_choice"
            ),
            models.CheckConstraint(condition=~Q(reasoning=""), name="gate_has_reasoning"),
        ]

    def __str__(self) -> str:
        return f"Gate: {self.prompt}"  # no query: the case's History page names every record

    def clean(self) -> None:
        """Refuse a gate after a stage shown only after the reveal, and a "next step" gate nobody could answer."""
        problems = {}
        try:
            after_reveal = self.series.after_reveal
        except Series.DoesNotExist:
            after_reveal = False
        if after_reveal:
            problems[NON_FIELD_ERRORS] = (
                "This stage is shown only after the reveal: a gate goes after a stage readers see before it."
            )
        options = self.option_list
        if self.kind == self.Kind.NEXT_STEP and (len(options) < 2 or not any(option.is_choice for option in options)):
            problems["options"] = (
                f"Write at least two options, one a line, and mark your choice by starting its line with {CHOICE_MARK}."
            )
        if problems:
            raise ValidationError(problems)

    DEFAULT_QUESTIONS = {
        Kind.IMPRESSION: "What is your impression so far?",
        Kind.NEXT_STEP: "What would you do next?",
        Kind.DIFFERENTIAL: "What is your differential so far? Up to three, most likely first.",
    }

    @property
    def prompt(self) -> str:
        """Return the question readers are asked: the author's, or the kind's own."""
        return self.question or self.DEFAULT_QUESTIONS[self.kind]

    @property
    def author_choices(self) -> list[str]:
        """Return the texts of the options the author marked as their choice."""
        return [option.text for option in self.option_list if option.is_choice]

    @property
    def option_list(self) -> list[GateOption]:
        """Return the options of a "what would you do next?" gate, the author's choices marked."""
        lines = (line.strip() for line in self.options.splitlines())
        options = []
        for line in (line for line in lines if line.strip(CHOICE_MARK).strip()):
            choice = line.startswith(CHOICE_MARK)
            options.append(GateOption(len(options) + 1, line.lstrip(CHOICE_MARK).strip(), choice))
        return options


class GateAnswer(models.Model):
    """A reader's answer to a gate: their impression, the option they chose, or their differential."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    session_key = models.CharField(max_length=40, blank=True)
    answered_at = models.DateTimeField(auto_now_add=True)
    # The impression, or the text of the option chosen (kept as read: the author may edit the options later).
    text = models.CharField(max_length=GATE_TEXT_LIMIT, blank=True)
    chose_authors_option = models.BooleanField(default=False)
    differential = models.JSONField(default=list, blank=True, help_text="Up to three diagnoses, most likely first.")

    objects = ReaderQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "gate"], condition=Q(user__isnull=False), name="gate_answer_once_per_user"
            ),
            models.UniqueConstraint(
                fields=["session_key", "gate"], condition=Q(user__isnull=True), name="gate_answer_once_per_session"
            ),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(session_key=""), name="gate_answer_has_reader"),
        ]

    def __str__(self) -> str:
        return f"Answer to gate {self.gate_id}"
