"""Cases: the unknown and its answer, the editors' reviews, authors' revisions, findings, differential and
references."""

import secrets

from django.apps import apps
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .choices import AcrAnatomy, AcrPathology, Rating, Region, Sex
from .topics import Reference, Topic


def random_secret() -> bytes:
    return secrets.token_bytes(32)


def random_date_offset() -> int:
    """Return a whole number of days between about ten years and one year back."""
    return -secrets.choice(range(365, 3650))


def _stage_models() -> tuple[type[models.Model], type[models.Model]]:
    """Return Series and Image, looked up rather than imported: their module imports this one."""
    return apps.get_model("cases", "Series"), apps.get_model("cases", "Image")


class CaseQuerySet(models.QuerySet):
    def published(self) -> "CaseQuerySet":
        """Return the cases residents see in lists."""
        return self.filter(status=Case.Status.PUBLISHED)

    def viewable(self) -> "CaseQuerySet":
        """Return the cases whose page opens for a reader: published, and retired ones kept for links."""
        return self.filter(status__in=[Case.Status.PUBLISHED, Case.Status.RETIRED])

    def editable_by(self, user) -> "CaseQuerySet":
        """Return the cases this user may edit: all for editors, their own for faculty."""
        if not user.is_active:
            return self.none()
        if user.has_perm("cases.edit_any_case"):
            return self.all()
        if user.has_perm("cases.change_case"):
            return self.filter(authors=user)
        return self.none()

    def visible_to(self, user) -> "CaseQuerySet":
        """Keep the cases whose access level lets this reader in: public ones for visitors; public and
        institution ones for logged-in users; private ones only for those who may edit them."""
        if not user.is_authenticated:
            return self.filter(access=Case.Access.PUBLIC)
        return self.filter(~Q(access=Case.Access.PRIVATE) | Q(pk__in=Case.objects.editable_by(user).values("pk")))

    def with_reveal_state(self, reveals: models.QuerySet) -> "CaseQuerySet":
        """Annotate ``revealed``: whether one of these reveals (a reader's, as they count now) is of each case."""
        return self.annotate(revealed=Exists(reveals.filter(case=OuterRef("pk"))))

    def for_list(self) -> "CaseQuerySet":
        """Add what a case card shows: first pre-reveal thumbnail and the modalities of the stages no gate holds."""
        Series, Image = _stage_models()
        first_thumbnail = (
            Image.objects.shown()
            .filter(series__in=Series.objects.open(), series__case=OuterRef("pk"))
            .order_by("series__order", "series__pk", "-is_key", "order", "pk")
            .annotate(picture=Coalesce(NullIf("thumbnail", Value("")), "file", output_field=models.CharField()))
            .values("picture")[:1]
        )
        return self.annotate(thumbnail_name=Subquery(first_thumbnail)).prefetch_related(
            Prefetch("series", queryset=Series.objects.open(), to_attr="presented_series")
        )

    def for_detail(self) -> "CaseQuerySet":
        """Add the stages with their images and the topic, for the case page."""
        return self.select_related("topic").prefetch_related(Case.stages_prefetch())


class Case(models.Model):
    """A teaching case: shown as an unknown, then revealed."""

    ANSWER_LISTS = ("findings", "differential", "references")  # loaded only when the answer is shown
    # What an author writes (lists and stages apart): what the demo file and a teaching-file package carry.
    AUTHORED_FIELDS = (
        "title",
        "credit",
        "access",
        "difficulty",
        "quality",
        "patient_age_years",
        "patient_sex",
        "region",
        "acr_anatomy",
        "acr_pathology",
        "keywords",
        "brief_history",
        "full_history",
        "diagnosis",
        "discussion",
        "management",
        "rehabilitation",
        "teaching_points",
    )

    class Access(models.TextChoices):
        PUBLIC = "public", "Public: anyone, where the site allows visitors"
        INSTITUTION = "institution", "Institution: logged-in users"
        PRIVATE = "private", "Private: its authors and the editors"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "review", "In review"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    number = models.SlugField(
        max_length=20,
        unique=True,
        help_text="Stable case number used in links, e.g. tf101. Must not hint at the diagnosis.",
    )
    title = models.CharField(
        max_length=200,
        help_text="Neutral public title shown before the reveal. Never name the diagnosis.",
    )
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="authored_cases",
        blank=True,
        help_text="Faculty who may edit this case.",
    )
    credit = models.CharField(
        max_length=300, blank=True, help_text="Credit line shown on the case, e.g. original authors and institution."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    access = models.CharField(
        max_length=12,
        choices=Access.choices,
        default=Access.INSTITUTION,
        help_text="Who may open the case once it is published. Public cases are shown to visitors who are not "
        "logged in only where the site allows anonymous browsing.",
    )
    is_demo = models.BooleanField(
        "demonstration case",
        default=False,
        editable=False,
        help_text="Demonstration content made by the demo loader (manage.py load_demo): its images are synthetic, "
        "and its page says so.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the case was last submitted for review."
    )
    difficulty = models.PositiveSmallIntegerField(
        choices=Rating.choices, default=Rating.THREE, help_text="1 = medical student, 5 = subspecialty fellow."
    )
    quality = models.PositiveSmallIntegerField(
        choices=Rating.choices, default=Rating.THREE, help_text="How well the images show the findings (5 = classic)."
    )
    patient_age_years = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(120)], help_text="Leave empty when not stated."
    )
    patient_sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    region = models.CharField(max_length=20, choices=Region.choices)
    acr_anatomy = models.CharField("ACR anatomic field", max_length=2, choices=AcrAnatomy.choices, blank=True)
    acr_pathology = models.CharField("ACR pathology category", max_length=2, choices=AcrPathology.choices, blank=True)
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated. Hidden until the reveal, so they may name the diagnosis.",
    )
    brief_history = models.TextField(help_text="Shown with the images before the reveal. No diagnosis, no findings.")

    full_history = models.TextField(blank=True, help_text="Hidden until the reveal. Markdown.")
    diagnosis = models.CharField(max_length=200, help_text="Hidden until the reveal.")
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
        help_text="The topic article of the diagnosis.",
    )
    discussion = models.TextField(blank=True, help_text="Hidden until the reveal. Markdown.")
    management = models.TextField(blank=True, help_text="Treatment and precautions. Hidden until the reveal. Markdown.")
    rehabilitation = models.TextField(
        blank=True, help_text="Rehabilitation prescription, where the case has one. Markdown."
    )
    teaching_points = models.TextField(blank=True, help_text="Markdown bullet list. Hidden until the reveal.")

    # De-identification keys: the same original UID or date maps to the same value within this case only.
    deid_secret = models.BinaryField(max_length=32, default=random_secret, editable=False)
    date_offset_days = models.SmallIntegerField(default=random_date_offset, editable=False)
    # Day 0 of the stages' study days: the shifted date of the earliest study imported into this case, kept so
    # that later batches count from the same day.
    study_day_zero = models.DateField(null=True, blank=True, editable=False)

    objects = CaseQuerySet.as_manager()
    # Who changed what, and when. The de-identification keys stay in this table only; "updated" would
    # repeat each record's own date.
    history = HistoricalRecords(excluded_fields=["deid_secret", "date_offset_days", "study_day_zero", "updated"])

    class Meta:
        ordering = ["-published_at", "-pk"]
        permissions = [
            ("edit_any_case", "Can edit cases of any author"),
            ("publish_case", "Can publish, return and retire cases"),
        ]
        # One per filter of the case list, ending in its order (a page is one index range), and region with difficulty
        # for their count (docs/decisions.md, "Search … at 100,000 cases", twice). Search: migrations 0020, 0026.
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"], name="case_listing"),
            models.Index(fields=["status", "region", "-published_at", "-id"], name="case_region_listing"),
            models.Index(fields=["status", "difficulty", "-published_at", "-id"], name="case_difficulty_listing"),
            models.Index(fields=["status", "region", "difficulty"], name="case_region_difficulty"),
            models.Index(fields=["topic", "status", "-published_at", "-id"], name="case_topic_listing"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(difficulty__gte=1, difficulty__lte=5), name="case_difficulty_1_to_5"),
            models.CheckConstraint(condition=Q(quality__gte=1, quality__lte=5), name="case_quality_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("cases:case-detail", kwargs={"number": self.number})

    def natural_key(self) -> tuple[str]:
        return (self.number,)

    @property
    def is_listed(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def keyword_list(self) -> list[str]:
        return [word.strip() for word in self.keywords.split(",") if word.strip()]

    @staticmethod
    def stages_prefetch() -> Prefetch:
        """Return the prefetch of the stages readers may see, with their gates and images, into ``all_series``."""
        Series, _ = _stage_models()
        return Prefetch("series", queryset=Series.objects.for_page(), to_attr="all_series")

    def is_editable_by(self, user) -> bool:
        """Say whether this user may edit the case (uses prefetched authors when present)."""
        if not user.is_active:
            return False
        if user.has_perm("cases.edit_any_case"):
            return True
        return user.has_perm("cases.change_case") and any(author.pk == user.pk for author in self.authors.all())

    def is_viewable_by(self, user) -> bool:
        """Say whether this user may open the case page: its editors always; others once it is published (or
        retired, kept for links) and its access level lets them in."""
        if self.is_editable_by(user):
            return True
        if self.status not in (self.Status.PUBLISHED, self.Status.RETIRED) or self.access == self.Access.PRIVATE:
            return False
        return self.access == self.Access.PUBLIC or user.is_authenticated


class CaseReview(models.Model):
    """An editor's decision on a case: published, or returned to its authors with comments."""

    class Decision(models.TextChoices):
        RETURNED = "returned", "Returned with comments"
        PUBLISHED = "published", "Published"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    comments = models.TextField(blank=True, max_length=5000, help_text="What the authors should change.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.case_id}"


class CaseRevisionQuerySet(models.QuerySet):
    def open(self) -> "CaseRevisionQuerySet":
        """Return the revisions still in play: waiting for an editor, or returned to their author."""
        return self.filter(status__in=CaseRevision.OPEN)


class CaseRevision(models.Model):
    """A faculty author's changes to a case readers see: held here, not applied, until an editor approves them."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        RETURNED = "returned", "Returned with comments"
        APPROVED = "approved", "Approved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN = (Status.PENDING, Status.RETURNED)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="revisions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    data = models.JSONField(
        default=dict, help_text="The proposed values of the fields and lists the author changed, by field name."
    )
    previous = models.JSONField(
        default=dict, blank=True, help_text="The values the approved changes replaced, kept for the case's history."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comments = models.TextField(blank=True, max_length=5000, help_text="What the author should change.")

    objects = CaseRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=["pending", "returned"]), name="one_open_revision_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"Revision {self.pk} of case {self.case_id}"


VIEW_FIELD = {"null": True, "blank": True, "editable": False}  # a finding's view: "Link current view" sets it


class CaseFinding(models.Model):
    """One finding of the answer, optionally linked to the view that shows it (a stage, slice, window, arrow)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="findings")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    view_series = models.ForeignKey("cases.Series", models.SET_NULL, related_name="+", **VIEW_FIELD)
    view_slice = models.PositiveSmallIntegerField(**VIEW_FIELD)
    view_center = models.FloatField(**VIEW_FIELD)
    view_width = models.FloatField(**VIEW_FIELD)
    view_annotation = models.ForeignKey("cases.Annotation", models.SET_NULL, related_name="+", **VIEW_FIELD)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def view_query(self) -> str:
        """Return the deep-link query of the linked view ("?series=…&slice=…"), or "" when there is none."""
        if self.view_series_id is None or self.view_slice is None:
            return ""
        state = {"series": self.view_series_id, "slice": self.view_slice}
        if self.view_center is not None and self.view_width is not None:
            state |= {"wl": round(self.view_center), "ww": round(self.view_width)}
        state |= {"mark": self.view_annotation_id} if self.view_annotation_id is not None else {}
        return "?" + "&".join(f"{key}={value}" for key, value in state.items())


class DifferentialEntry(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="differential")
    order = models.PositiveSmallIntegerField(default=0)
    diagnosis = models.CharField(max_length=200)
    reasoning = models.TextField(help_text="Why it is more or less likely in this case.")
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name_plural = "differential diagnosis"

    def __str__(self) -> str:
        return self.diagnosis


class CaseReference(Reference):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="references")

    history = HistoricalRecords()

    class Meta(Reference.Meta):
        pass
