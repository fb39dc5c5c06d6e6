"""The case domain's models: topics, cases with their answer and reviews, stages and images, reveals.

The modules import one another in one direction only: choices, topics, cases, stages, gates, reveals.
Every name is also here, where the migrations name the default and upload functions (``cases.models.…``).
"""

from .cases import (
    Case,
    CaseFinding,
    CaseQuerySet,
    CaseReference,
    CaseReview,
    CaseRevision,
    CaseRevisionQuerySet,
    DifferentialEntry,
    random_date_offset,
    random_secret,
)
from .choices import AcrAnatomy, AcrPathology, Modality, Phase, Plane, Rating, Region, Sex, WindowPreset
from .gates import GATE_TEXT_LIMIT, Gate, GateAnswer, GateOption, GateQuerySet
from .reveals import DIFFERENTIAL_ENTRIES, ReaderQuerySet, Reveal, RevealDifferential
from .stages import (
    STUDY_DAY_LIMIT,
    Annotation,
    AnnotationQuerySet,
    Image,
    ImageQuerySet,
    Series,
    SeriesQuerySet,
    dicom_upload_to,
    image_upload_to,
)
from .topics import (
    WEB_SCHEMES,
    ClassificationGrade,
    ClassificationSystem,
    Reference,
    Topic,
    TopicReference,
    TopicSection,
)

__all__ = [
    "DIFFERENTIAL_ENTRIES",
    "GATE_TEXT_LIMIT",
    "Gate",
    "GateAnswer",
    "GateOption",
    "GateQuerySet",
    "STUDY_DAY_LIMIT",
    "WEB_SCHEMES",
    "AcrAnatomy",
    "AcrPathology",
    "Annotation",
    "AnnotationQuerySet",
    "Case",
    "CaseFinding",
    "CaseQuerySet",
    "CaseReference",
    "CaseReview",
    "CaseRevision",
    "CaseRevisionQuerySet",
    "ClassificationGrade",
    "ClassificationSystem",
    "DifferentialEntry",
    "Image",
    "ImageQuerySet",
    "Modality",
    "Phase",
    "Plane",
    "Rating",
    "Reference",
    "Region",
    "Reveal",
    "RevealDifferential",
    "ReaderQuerySet",
    "Series",
    "SeriesQuerySet",
    "Sex",
    "Topic",
    "TopicReference",
    "TopicSection",
    "WindowPreset",
    "dicom_upload_to",
    "image_upload_to",
    "random_date_offset",
    "random_secret",
]
