"""A case's stages (DICOM series or uploaded pictures), their images and the annotations drawn on them."""

import uuid
from pathlib import PurePosixPath

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from simple_history.models import HistoricalRecords

from .cases import Case
from .choices import Modality, Phase, Plane, WindowPreset


class SeriesQuerySet(models.QuerySet):
    def shown(self) -> "SeriesQuerySet":
        """Return the stages readers may see: imported ones only once the author confirmed their labels."""
        return self.filter(label_confirmed=True)

    def presented(self) -> "SeriesQuerySet":
        """Return the stages shown before the reveal."""
        return self.shown().filter(after_reveal=False)

    def for_page(self) -> "SeriesQuerySet":
        """Return the stages readers may see with what the case page shows of them: their gates and images; and
        the unconfirmed stages that have a gate, which still holds back the stages after it (never shown)."""
        stages = self.filter(Q(label_confirmed=True) | Q(gate__isnull=False))
        return stages.select_related("gate").prefetch_related(Prefetch("images", queryset=Image.objects.shown()))

    def open(self) -> "SeriesQuerySet":
        """Return the stages shown before the reveal that no gate holds back: those before the case's first gate,
        and that stage itself (what every reader sees before answering anything).

        A gate counts whatever its own stage's flags (fail closed): unticking "label confirmed" or ticking
        "shown after reveal" on a gated stage hides that stage, never the gate.
        """
        earlier = Q(order__lt=OuterRef("order")) | Q(order=OuterRef("order"), pk__lt=OuterRef("pk"))
        gated = self.model.objects.filter(earlier, case=OuterRef("case"), gate__isnull=False)
        return self.presented().filter(~Exists(gated))


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
    window_preset = models.CharField(
        "opens in window",
        max_length=20,
        blank=True,
        choices=WindowPreset.choices,
        help_text="The window the viewer opens this stage in, e.g. a bone window for a CT of bony findings; "
        "named in the stage's label. Empty: the window stored with the images.",
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
        # The case list's modality filter: the presented stages of one modality, by case, with what open() asks of
        # each (its place among the case's stages), so that PostgreSQL answers it from the index alone.
        indexes = [
            models.Index(
                fields=["modality", "case"],
                include=["order", "id"],
                condition=Q(after_reveal=False, label_confirmed=True),
                name="series_presented_modality",
            )
        ]
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
    def is_cine(self) -> bool:
        """Say whether the stage is read as a cine from its first frame: a bone scan's flow phase."""
        return self.phase == Phase.FLOW

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
        if self.window_preset:
            parts.append(f"{self.get_window_preset_display()} window")
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
    # The case page's rendition (cases/renditions.py); blank when the web image is no larger than it.
    medium = models.ImageField(upload_to=image_upload_to, editable=False, blank=True, db_index=True)
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
    # Row and column direction cosines (Image Orientation (Patient)): the viewer's orientation letters.
    orientation = models.JSONField(default=list, blank=True, editable=False)
    view = models.CharField(
        max_length=12,
        blank=True,
        help_text="For planar nuclear medicine, the projection written on the image: ANT, POST, LAO… "
        "Imports read it from the DICOM header.",
    )
    time_after_injection = models.DurationField(
        null=True,
        blank=True,
        help_text="For nuclear medicine, when the image (or frame) was acquired after the injection, as "
        "hh:mm:ss; shown with the image. Imports read it from the DICOM header.",
    )
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

    @property
    def injection_text(self) -> str:
        """Say when the image was acquired after the injection, as the viewer does: "30 s", "3 h 10 min"."""
        if self.time_after_injection is None:
            return ""
        seconds = self.time_after_injection.total_seconds()
        if seconds < 120:
            return f"{round(seconds)} s after injection"
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min after injection"
        hours, rest = divmod(minutes, 60)
        return f"{hours} h{f' {rest} min' if rest else ''} after injection"


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
