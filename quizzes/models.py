"""Questions, quizzes, attempts with their responses, and the spaced-review queue."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Image, Series, Topic

from . import geometry, scheduling, scoring

FRACTION = [MinValueValidator(0), MaxValueValidator(1)]
# A question may name a case being written; it is served once the case is published (``selectors.readable_by``).
UNPUBLISHED = (Case.Status.DRAFT, Case.Status.IN_REVIEW)


class Question(models.Model):
    """One question of the bank; quizzes pick from it.

    A question may name a draft or a case in review: it is served to no one until the case is published.

    *Single best answer*: a stem and five options, one correct, each with its rationale (optionally shown
    with one image of a case, from a stage shown before the reveal). *Unknown case*: the case as an
    unknown; the typed diagnosis is marked against its topic's name and synonyms. *Click the finding*: a
    stage of a case; the click must land within the target, a circle or a polygon (fractions of the image),
    on a slice in the range given.
    """

    class Kind(models.TextChoices):
        SINGLE_BEST = "sba", "Single best answer"
        UNKNOWN_CASE = "unknown", "Unknown case (type the diagnosis)"
        CLICK = "click", "Click the finding"

    class Shape(models.TextChoices):
        CIRCLE = "circle", "Circle"
        POLYGON = "polygon", "Polygon"

    key = models.SlugField(max_length=80, unique=True, help_text="A short name that stays the same, e.g. brooker-3.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        help_text="What the question is about; unknown cases take their case's topic.",
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        help_text="Required for unknown-case and click-the-finding questions.",
    )
    image = models.ForeignKey(
        Image,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Single best answer only: an image shown with the stem, from a stage shown before the reveal.",
    )
    series = models.ForeignKey(
        Series,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Click the finding: the stage the resident clicks on.",
    )
    stem = models.TextField(help_text="The question. Never give the answer away.")
    explanation = models.TextField(
        blank=True,
        help_text="Shown after answering: the teaching point. A click-the-finding question leaves its case an "
        "unknown: do not name the diagnosis there.",
    )
    target_x = models.FloatField(null=True, blank=True, validators=FRACTION, help_text="Centre, fraction of width.")
    target_y = models.FloatField(null=True, blank=True, validators=FRACTION, help_text="Centre, fraction of height.")
    target_radius = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.005), MaxValueValidator(0.5)],
        help_text="Fraction of the image's width; clicks this close to the centre count.",
    )
    target_shape = models.CharField(max_length=10, choices=Shape.choices, default=Shape.CIRCLE)
    target_points = models.JSONField(
        default=list, blank=True, help_text="A polygon target's corners: [x, y] fractions of width and height."
    )
    slice_from = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="First slice that counts (1 = first)."
    )
    slice_to = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Last slice that counts.")
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["unknown", "click"]) | Q(case__isnull=False), name="question_case_given"
            ),
            models.CheckConstraint(
                condition=~Q(kind="click")
                | Q(series__isnull=False, target_shape="polygon")
                | Q(series__isnull=False, target_x__isnull=False, target_y__isnull=False, target_radius__isnull=False),
                name="question_click_has_target",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        problems = {}
        if self.kind in (self.Kind.UNKNOWN_CASE, self.Kind.CLICK) and not self.case_id:
            problems["case"] = "Choose the case."
        if self.case_id and self.case.status in UNPUBLISHED and self._in_a_published_quiz():
            problems["case"] = "This question is in a published quiz: name a published case, or take it out first."
        elif self.case_id and self.case.access == Case.Access.PRIVATE:
            problems["case"] = "A private case cannot be in a quiz: its readers could not open it."
        if self.kind == self.Kind.CLICK:
            if not self.series_id:
                problems["series"] = "Choose the stage to click on."
            elif self.series.case_id != self.case_id:
                problems["series"] = "The stage must belong to the case."
            elif not Series.objects.open().filter(pk=self.series_id).exists():  # after the reveal or a gate
                problems["series"] = "Pick a stage shown before the reveal and before the case's first gate."
            elif self.series.images.filter(annotations__after_reveal=False).exists():
                problems["series"] = "This stage has arrows shown before the reveal: they would point at the answer."
            target_problem = self._target_problem()
            if target_problem:
                problems["target_points"] = target_problem
            if self.slice_from and self.slice_to and self.slice_from > self.slice_to:
                problems["slice_to"] = "The last slice comes after the first."
        if self.image_id and self.case_id and self.image.series.case_id != self.case_id:
            problems["image"] = "Pick the image from the question's case."
        elif self.image_id and not Series.objects.open().filter(pk=self.image.series_id).exists():
            problems["image"] = "Use an image from a stage shown before the reveal and before the case's first gate."
        elif self.image_id and self.image.held_for_review:
            problems["image"] = "This image is held for a burned-in text check: residents cannot see it."
        if problems:
            raise ValidationError(problems)

    def _in_a_published_quiz(self) -> bool:
        """A published quiz would hold an unpublished case's question silently, serving one question fewer."""
        return self.pk is not None and self.quizzes.filter(is_published=True).exists()

    def _target_problem(self) -> str | None:
        """Say what is wrong with the target; the other shape's values are dropped, so one shape is stored."""
        if self.target_shape == self.Shape.POLYGON:
            self.target_x = self.target_y = self.target_radius = None
            if not isinstance(self.target_points, list):
                return "Draw the target on the image."
            return geometry.polygon_problem(self.target_points)
        self.target_points = []
        if None in (self.target_x, self.target_y, self.target_radius):
            return "Draw the target on the image: a circle (drag) or a polygon (click its corners)."
        return None

    @property
    def subject(self) -> Topic | None:
        """The topic for accuracy by topic: the question's, else its case's."""
        return self.topic or (self.case.topic if self.case_id else None)

    @property
    def named_topic(self) -> Topic | None:
        """The topic its feedback and progress may name: none for a click question, whose case stays an unknown."""
        return None if self.kind == self.Kind.CLICK else self.subject

    @property
    def reveals_case(self) -> bool:
        """Whether answering it reveals its case: a click question asks where, not what, so its case stays unknown."""
        return self.case_id is not None and self.kind != self.Kind.CLICK

    @property
    def expected_answer(self) -> str:
        """What an unknown case is marked against, shown once answered: its topic, else its diagnosis."""
        return self.subject.name if self.subject else self.case.diagnosis

    @property
    def target(self) -> scoring.Target:
        points = self.target_points if self.target_shape == self.Shape.POLYGON else []
        corners = tuple((float(x), float(y)) for x, y in points)
        return scoring.Target(self.target_x, self.target_y, self.target_radius, self.slice_from, self.slice_to, corners)


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=200)
    is_correct = models.BooleanField(default=False)
    rationale = models.TextField(help_text="Why this option is right or wrong; shown after answering.")

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["question"], condition=Q(is_correct=True), name="option_one_correct_per_question"
            )
        ]

    def __str__(self) -> str:
        return self.text


class QuizQuerySet(models.QuerySet):
    def open_to(self, user) -> "QuizQuerySet":
        """Return the published quizzes this user may take now: inside the publish window, in their groups."""
        now = timezone.now()
        quizzes = self.filter(is_published=True).filter(Q(opens_at__isnull=True) | Q(opens_at__lte=now))
        quizzes = quizzes.filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        return quizzes.filter(Q(groups__isnull=True) | Q(groups__in=user.groups.all())).distinct()

    def editable_by(self, user) -> "QuizQuerySet":
        if not user.is_active:
            return self.none()
        if user.has_perm("quizzes.edit_any_quiz"):
            return self.all()
        if user.has_perm("quizzes.change_quiz"):
            return self.filter(authors=user)
        return self.none()


class Quiz(models.Model):
    class Mode(models.TextChoices):
        PRACTICE = "practice", "Practice: feedback after each question"
        EXAM = "exam", "Exam: feedback at the end"

    slug = models.SlugField(
        max_length=80,
        unique=True,
        help_text="Part of the quiz's address, seen before any answer: like the title, it names no diagnosis of "
        "a case in the quiz.",
    )
    title = models.CharField(
        max_length=200,
        help_text="Shown above every question. A quiz with unknown cases or findings to click names no diagnosis "
        "or topic of its cases (“Unknowns: pelvis and hips”), and holds no question that names them.",
    )
    description = models.TextField(
        blank=True, help_text="Shown in the list of quizzes, before any answer: the same rule as for the title."
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.PRACTICE)
    time_limit_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Empty: untimed. Answers after the time are not counted.",
    )
    shuffle_questions = models.BooleanField(default=True)
    shuffle_options = models.BooleanField(default=True)
    is_published = models.BooleanField(default=False)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    groups = models.ManyToManyField(
        Group, blank=True, related_name="+", help_text="Who may take it; empty: every logged-in user."
    )
    questions = models.ManyToManyField(Question, through="QuizQuestion", related_name="quizzes")
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = QuizQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "quizzes"
        permissions = [("edit_any_quiz", "Can edit any quiz and see every quiz's cohort results")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("quizzes:quiz-detail", args=[self.slug])

    def is_editable_by(self, user) -> bool:
        return Quiz.objects.editable_by(user).filter(pk=self.pk).exists()


class QuizQuestion(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="entries")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["quiz", "question"], name="question_once_per_quiz")]

    def __str__(self) -> str:
        return f"{self.order}. {self.question_id}"


class Attempt(models.Model):
    """One resident's go at a quiz: the order they see, when time runs out, and their score."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts", null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    mode = models.CharField(max_length=10, choices=Quiz.Mode.choices)
    question_ids = models.JSONField(help_text="The questions in the order this attempt shows them.")
    option_ids = models.JSONField(default=dict, help_text="Per question id, its options in the order shown.")
    started_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="Fraction of the questions answered correctly in time.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "user"],
                condition=Q(finished_at__isnull=True, quiz__isnull=False),
                name="one_open_attempt_per_quiz",
            )
        ]

    def __str__(self) -> str:
        return f"Attempt {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("quizzes:attempt-detail", args=[self.pk])

    @property
    def is_review(self) -> bool:
        """A review session works through due items rather than a quiz."""
        return self.quiz_id is None

    def is_over_at(self, moment) -> bool:
        return self.deadline is not None and moment > self.deadline

    @property
    def is_over(self) -> bool:
        """Whether the attempt takes no more answers that count: finished, or its time is up."""
        return self.finished_at is not None or self.is_over_at(timezone.now())

    @property
    def time_limit_minutes(self) -> int | None:
        """The limit this attempt ran under (the quiz's may have changed since)."""
        return round((self.deadline - self.started_at).total_seconds() / 60) if self.deadline else None


class Response(models.Model):
    """The one scored answer to a question in an attempt; it cannot be replaced."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="responses")
    answered_at = models.DateTimeField(default=timezone.now)
    option = models.ForeignKey(Option, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=200, blank=True)
    click_x = models.FloatField(null=True, blank=True)
    click_y = models.FloatField(null=True, blank=True)
    click_slice = models.PositiveSmallIntegerField(null=True, blank=True)
    is_correct = models.BooleanField(default=False)
    in_time = models.BooleanField(default=True, help_text="False when given after the time limit: not counted.")

    class Meta:
        ordering = ["answered_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="one_response_per_question")]

    def __str__(self) -> str:
        return f"Response to {self.question_id}"

    @property
    def counts(self) -> bool:
        return self.is_correct and self.in_time


class ReviewItem(models.Model):
    """A missed question or case that comes back for review on an SM-2 schedule."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_items")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    repetitions = models.PositiveSmallIntegerField(default=0)
    interval_days = models.PositiveSmallIntegerField(default=1)
    ease = models.FloatField(default=2.5)
    due = models.DateField()
    last_reviewed = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(question__isnull=False, case__isnull=True) | Q(question__isnull=True, case__isnull=False),
                name="review_item_is_question_or_case",
            ),
            models.UniqueConstraint(fields=["user", "question"], name="review_question_once"),
            models.UniqueConstraint(fields=["user", "case"], name="review_case_once"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.question_id or self.case_id} due {self.due}"

    @property
    def state(self) -> scheduling.ReviewState:
        return scheduling.ReviewState(self.repetitions, self.interval_days, self.ease, self.due)
