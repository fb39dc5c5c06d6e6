"""Topics (diagnosis articles), cases, their image stages, and reveals."""

import secrets
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Modality(models.TextChoices):
    RADIOGRAPH = "XR", "Radiograph"
    CT = "CT", "CT"
    MR = "MR", "MRI"
    NM = "NM", "Nuclear medicine"
    US = "US", "Ultrasound"
    PET = "PT", "PET"
    FLUOROSCOPY = "RF", "Fluoroscopy"
    ANGIOGRAPHY = "XA", "Angiography"
    MAMMOGRAPHY = "MG", "Mammography"
    OTHER = "OT", "Other"


class Phase(models.TextChoices):
    NONE = "", "—"
    FLOW = "flow", "Flow (radionuclide angiogram)"
    BLOOD_POOL = "blood_pool", "Blood pool"
    DELAYED = "delayed", "Delayed"
    NON_CONTRAST = "non_contrast", "Non-contrast"
    ARTERIAL = "arterial", "Arterial"
    PORTAL_VENOUS = "portal_venous", "Portal venous"
    EQUILIBRIUM = "equilibrium", "Equilibrium / late"


class Plane(models.TextChoices):
    NONE = "", "—"
    AP = "AP", "AP"
    PA = "PA", "PA"
    LATERAL = "lateral", "Lateral"
    OBLIQUE = "oblique", "Oblique"
    AXIAL = "axial", "Axial"
    CORONAL = "coronal", "Coronal"
    SAGITTAL = "sagittal", "Sagittal"
    ANTERIOR = "anterior", "Anterior"
    POSTERIOR = "posterior", "Posterior"
    ANTERIOR_POSTERIOR = "anterior_posterior", "Anterior and posterior"


class Region(models.TextChoices):
    BRAIN = "brain", "Brain"
    HEAD_NECK = "head_neck", "Head and neck"
    SPINE = "spine", "Spine"
    CHEST = "chest", "Chest"
    BREAST = "breast", "Breast"
    CARDIAC = "cardiac", "Heart and vessels"
    ABDOMEN = "abdomen", "Abdomen"
    PELVIS = "pelvis", "Pelvis and hips"
    UPPER_LIMB = "upper_limb", "Upper limb"
    LOWER_LIMB = "lower_limb", "Lower limb"
    WHOLE_BODY = "whole_body", "Whole body"


class AcrAnatomy(models.TextChoices):
    """Anatomic fields of the ACR Index for Radiological Diagnoses."""

    SKULL = "1", "1 Skull and contents"
    FACE_NECK = "2", "2 Face, mastoids and neck"
    SPINE = "3", "3 Spine and contents"
    SKELETAL = "4", "4 Skeletal system"
    HEART = "5", "5 Heart and mediastinum"
    CHEST = "6", "6 Chest"
    GI = "7", "7 Gastrointestinal system"
    GU = "8", "8 Genitourinary system"
    VASCULAR = "9", "9 Vascular and lymphatic systems"


class AcrPathology(models.TextChoices):
    """Pathology categories of the ACR Index for Radiological Diagnoses."""

    NORMAL = "1", "1 Normal, technique, congenital anomaly"
    INFLAMMATION = "2", "2 Inflammation"
    NEOPLASM = "3", "3 Neoplasm, neoplasm-like condition"
    TRAUMA = "4", "4 Effect of trauma"
    METABOLIC = "5", "5 Metabolic, endocrine, toxic"
    SYSTEMIC = "6", "6 Other generalized systemic disorder"
    VASCULAR = "7", "7 Vascular disorder"
    MISC = "8", "8 Miscellaneous"
    OTHER = "9", "9 Other"


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    OTHER = "O", "Other"
    UNKNOWN = "U", "Not stated"


class Rating(models.IntegerChoices):
    ONE = 1, "1"
    TWO = 2, "2"
    THREE = 3, "3"
    FOUR = 4, "4"
    FIVE = 5, "5"


class Topic(models.Model):
    """A diagnosis article; cases link to the topic of their diagnosis."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    synonyms = models.TextField(
        blank=True,
        help_text="One per line: abbreviations and other names (used to mark typed answers).",
    )
    summary = models.TextField(help_text="One to three plain sentences: what the diagnosis is.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cases:topic-detail", kwargs={"slug": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def synonym_list(self) -> list[str]:
        return [line.strip() for line in self.synonyms.splitlines() if line.strip()]


class TopicSection(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(default=0)
    heading = models.CharField(max_length=120)
    body = models.TextField(help_text="Markdown: lists, ### sub-headings, **bold**, links.")

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.heading


class ClassificationSystem(models.Model):
    """A grading system of a topic, such as the Brooker classification."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="classifications")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown.")

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class ClassificationGrade(models.Model):
    system = models.ForeignKey(ClassificationSystem, on_delete=models.CASCADE, related_name="grades")
    order = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=40, help_text="For example “Grade 2” or “B”.")
    description = models.TextField()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.label


WEB_SCHEMES = ["http", "https"]


class Reference(models.Model):
    """A citation; a topic's or a case's references list."""

    order = models.PositiveSmallIntegerField(default=0)
    citation = models.TextField()
    url = models.URLField(
        blank=True,
        max_length=500,
        validators=[URLValidator(schemes=WEB_SCHEMES)],
        help_text="A web address starting with https:// or http://; readers get it as a link.",
    )

    class Meta:
        abstract = True
        ordering = ["order", "pk"]
        constraints = [
            # Rows written without the form (fixtures, bulk loads) cannot carry javascript:, data: or ftp: links.
            models.CheckConstraint(
                condition=Q(url="") | Q(url__istartswith="http://") | Q(url__istartswith="https://"),
                name="%(app_label)s_%(class)s_url_web",
            ),
        ]

    def __str__(self) -> str:
        return self.citation[:80]

    def web_url(self) -> str:
        """Return the address to link to: the URL when it is a web (http or https) address, else nothing."""
        scheme, _, rest = self.url.partition("://")
        return self.url if rest and scheme.lower() in WEB_SCHEMES else ""


class TopicReference(Reference):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="references")

    class Meta(Reference.Meta):
        pass


def random_secret() -> bytes:
    return secrets.token_bytes(32)


def random_date_offset() -> int:
    """Return a whole number of days between about ten years and one year back."""
    return -secrets.choice(range(365, 3650))


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

    def with_reveal_state(self, reveals: "RevealQuerySet") -> "CaseQuerySet":
        """Annotate ``revealed``: whether one of these reveals (a reader's, as they count now) is of each case."""
        return self.annotate(revealed=Exists(reveals.filter(case=OuterRef("pk"))))

    def for_list(self) -> "CaseQuerySet":
        """Add what a case card shows: first pre-reveal thumbnail and the pre-reveal stages' modalities."""
        first_thumbnail = (
            Image.objects.shown()
            .filter(series__case=OuterRef("pk"), series__after_reveal=False, series__label_confirmed=True)
            .order_by("series__order", "series__pk", "-is_key", "order", "pk")
            .annotate(picture=Coalesce(NullIf("thumbnail", Value("")), "file", output_field=models.CharField()))
            .values("picture")[:1]
        )
        return self.annotate(thumbnail_name=Subquery(first_thumbnail)).prefetch_related(
            Prefetch("series", queryset=Series.objects.presented(), to_attr="presented_series")
        )

    def for_detail(self) -> "CaseQuerySet":
        """Add the stages with their images, the topic and the authors, for the case page."""
        return self.select_related("topic").prefetch_related(
            "authors",
            Prefetch(
                "series",
                queryset=Series.objects.shown().prefetch_related(Prefetch("images", queryset=Image.objects.shown())),
                to_attr="all_series",
            ),
        )

    def search(self, query: str) -> "CaseQuerySet":
        """Match the fields a reader sees before the reveal, never the hidden ones."""
        words = query.split()[:8]
        condition = Q()
        for word in words:
            condition &= Q(number__icontains=word) | Q(title__icontains=word) | Q(brief_history__icontains=word)
        return self.filter(condition)


class Case(models.Model):
    """A teaching case: shown as an unknown, then revealed."""

    ANSWER_LISTS = ("findings", "differential", "references")  # loaded only when the answer is shown

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
        indexes = [models.Index(fields=["status", "-published_at", "-id"], name="case_listing")]
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


class CaseFinding(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="findings")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


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


class SeriesQuerySet(models.QuerySet):
    def shown(self) -> "SeriesQuerySet":
        """Return the stages readers may see: imported ones only once the author confirmed their labels."""
        return self.filter(label_confirmed=True)

    def presented(self) -> "SeriesQuerySet":
        """Return the stages shown before the reveal."""
        return self.shown().filter(after_reveal=False)


STUDY_DAY_LIMIT = 36_500  # a hundred years either side of the first study


class Series(models.Model):
    """A stage of the work-up: one study, sequence or phase."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="series")
    order = models.PositiveSmallIntegerField(default=0, help_text="Stages are shown in this order.")
    modality = models.CharField(max_length=2, choices=Modality.choices)
    phase = models.CharField(
        max_length=20, choices=Phase.choices, blank=True, help_text="For multi-phase studies such as a bone scan."
    )
    plane = models.CharField(max_length=20, choices=Plane.choices, blank=True)
    sequence = models.CharField(max_length=60, blank=True, help_text="MR sequence, e.g. T1, T2, STIR.")
    technique = models.CharField(
        max_length=300, blank=True, help_text="E.g. radiopharmaceutical and dose. Shown with the stage."
    )
    caption = models.CharField(
        max_length=300, blank=True, help_text="Shown with the stage; before the reveal unless marked after."
    )
    after_reveal = models.BooleanField(
        "shown after reveal",
        default=False,
        help_text="Hidden until the reveal, e.g. annotated key images.",
    )
    series_uid = models.CharField(
        max_length=64, blank=True, editable=False, help_text="De-identified Series Instance UID of imported DICOM."
    )
    body_part = models.CharField(max_length=64, blank=True)
    study_day = models.IntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-STUDY_DAY_LIMIT), MaxValueValidator(STUDY_DAY_LIMIT)],
        help_text="Days after the case's first study (day 0), shown beside the stage as “day N”. Imports fill it "
        "in from the study dates; correct it here if it is wrong, or leave it empty to show no day. A study "
        "before the first one has a negative day.",
    )
    label_confirmed = models.BooleanField(
        default=True,
        help_text="Imported stages are hidden from readers until the author has checked their label and caption.",
    )

    objects = SeriesQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "series_uid"], condition=~Q(series_uid=""), name="series_uid_once_per_case"
            ),
            models.CheckConstraint(
                condition=Q(study_day__isnull=True)
                | Q(study_day__gte=-STUDY_DAY_LIMIT, study_day__lte=STUDY_DAY_LIMIT),
                name="series_study_day_within_a_century",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    STACK_FROM = 5

    @property
    def is_stack(self) -> bool:
        """Say whether the stage is shown as one scrollable stack rather than image by image."""
        return len(self.images.all()) >= self.STACK_FROM

    @property
    def key_images(self) -> list["Image"]:
        """Return the images shown on the page: all of them, or the key image (else the middle one) of a stack."""
        images = list(self.images.all())
        if len(images) < self.STACK_FROM:
            return images
        return [next((image for image in images if image.is_key), images[len(images) // 2])]

    @property
    def label(self) -> str:
        """Describe the stage by acquisition: modality, phase, plane, sequence."""
        parts = [self.get_modality_display()]
        if self.phase:
            parts.append(self.get_phase_display())
        if self.sequence:
            parts.append(self.sequence)
        if self.plane:
            parts.append(self.get_plane_display())
        return " · ".join(parts)


def image_upload_to(instance: "Image", filename: str) -> str:
    """Store under a random name; the uploaded file name is never kept."""
    token = uuid.uuid4().hex
    suffix = PurePosixPath(filename).suffix.lower()
    return f"images/{token[:2]}/{token}{suffix}"


def dicom_upload_to(instance: "Image", filename: str) -> str:
    """Store de-identified DICOM under a random name."""
    token = uuid.uuid4().hex
    return f"dicom/{token[:2]}/{token}.dcm"


class ImageQuerySet(models.QuerySet):
    def shown(self) -> "ImageQuerySet":
        """Return the images readers may see: not held for a burned-in text check."""
        return self.filter(held_for_review=False)


class Image(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="images")
    order = models.PositiveSmallIntegerField(default=0)
    # Indexed: every image request looks its row up by stored name to check permissions.
    file = models.ImageField(upload_to=image_upload_to, width_field="width", height_field="height", db_index=True)
    # Blank for the slices of an imported stack: pages show a stack by its key image.
    thumbnail = models.ImageField(upload_to=image_upload_to, editable=False, blank=True, db_index=True)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    caption = models.CharField(max_length=300, blank=True)
    alt_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="Describe what is seen for readers who cannot see the image. Never name the diagnosis.",
    )
    pixel_spacing_mm = models.DecimalField(
        max_digits=7, decimal_places=4, null=True, blank=True, help_text="Size of one pixel in millimetres."
    )
    dicom_file = models.FileField(
        upload_to=dicom_upload_to, blank=True, editable=False, help_text="The de-identified DICOM object."
    )
    frame_number = models.PositiveIntegerField(default=1, editable=False)
    instance_uid = models.CharField(max_length=64, blank=True, editable=False)
    slice_position_mm = models.FloatField(null=True, blank=True, editable=False)
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    is_key = models.BooleanField(
        "key image",
        default=False,
        help_text="Shown for the stage on the case page and as the case's thumbnail. Imports mark the middle "
        "slice of a stack.",
    )
    held_for_review = models.BooleanField(
        default=False,
        help_text="May carry burned-in text (patient name, dates). Hidden from residents until you confirm it is "
        "clean or mask the text.",
    )
    masks = models.JSONField(
        default=list, blank=True, editable=False, help_text="Rectangles [x, y, width, height] blacked out."
    )
    # Boxes only, never the text read (it may be a name): the check page offers them as masks to confirm.
    text_regions = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Rectangles [x, y, width, height] where the import found text in the pixels.",
    )

    objects = ImageQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"Image {self.order}"


class AnnotationQuerySet(models.QuerySet):
    def presented(self) -> "AnnotationQuerySet":
        """Return the annotations shown before the reveal."""
        return self.filter(after_reveal=False)


class Annotation(models.Model):
    """An arrow, ellipse or text label drawn over an image, in fractions of its width and height.

    An arrow points from (x1, y1) to its head at (x2, y2); an ellipse fills the box between the two
    points; a text label starts at (x1, y1).  Fractions keep a drawing on its finding whatever size
    the image is shown at.
    """

    class Kind(models.TextChoices):
        ARROW = "arrow", "Arrow"
        ELLIPSE = "ellipse", "Circle or ellipse"
        TEXT = "text", "Text label"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="annotations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    x1 = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    y1 = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    x2 = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    y2 = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    label = models.CharField(
        max_length=80, blank=True, help_text="Short text beside the mark. Required for a text label."
    )
    after_reveal = models.BooleanField(
        "shown after reveal",
        default=True,
        help_text="Not sent to the browser until the reader has revealed the case.",
    )

    objects = AnnotationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(x1__gte=0, x1__lte=1, y1__gte=0, y1__lte=1, x2__gte=0, x2__lte=1, y2__gte=0, y2__lte=1),
                name="annotation_inside_image",
            ),
            models.CheckConstraint(condition=~Q(kind="text") | ~Q(label=""), name="annotation_text_has_label"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}".strip()


class RevealQuerySet(models.QuerySet):
    def for_reader(self, *, user=None, session_key: str | None = None) -> "RevealQuerySet":
        """Return the reveals of a logged-in user, or of an anonymous session."""
        if user is not None and user.is_authenticated:
            return self.filter(user=user)
        if session_key:
            return self.filter(user__isnull=True, session_key=session_key)
        return self.none()


class Reveal(models.Model):
    """A reader's reveal of a case, with the answer they committed to beforehand."""

    class Assessment(models.TextChoices):
        NONE = "", "Not rated"
        CORRECT = "correct", "I got it"
        PARTIAL = "partial", "Partly"
        MISSED = "missed", "I missed it"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    session_key = models.CharField(max_length=40, blank=True)
    revealed_at = models.DateTimeField(auto_now_add=True)
    committed_answer = models.CharField(max_length=200, blank=True)
    self_assessment = models.CharField(max_length=10, choices=Assessment.choices, blank=True)

    objects = RevealQuerySet.as_manager()

    class Meta:
        ordering = ["-revealed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "case"], condition=Q(user__isnull=False), name="reveal_once_per_user"
            ),
            models.UniqueConstraint(
                fields=["session_key", "case"], condition=Q(user__isnull=True), name="reveal_once_per_session"
            ),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(session_key=""), name="reveal_has_reader"),
        ]

    def __str__(self) -> str:
        return f"Reveal of {self.case_id}"


class IngestJob(models.Model):
    """One DICOM upload being turned into stages of a case; its progress and report."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Phase(models.TextChoices):
        DEIDENTIFY = "deidentify", "De-identifying"
        RENDER = "render", "Rendering"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="ingest_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.DEIDENTIFY)
    total = models.PositiveIntegerField(default=0, help_text="Files of the current phase.")
    processed = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the process running the import (its lease)."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times the lease check took it over from a dead process."
    )
    cleaned = models.BooleanField(
        default=False, help_text="Ended, and every file it wrote that is in no image (and its spooled upload) deleted."
    )

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status"], name="ingestjob_status")]

    def __str__(self) -> str:
        return f"DICOM import {self.token} for {self.case_id}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        # A zip inside the upload's zip is one listed file but many processed ones: never past 100 %.
        return min(100, int(100 * self.processed / self.total)) if self.total else 0
