"""The choices the case domain names: modalities, phases, planes, regions, ACR codes, sex, ratings."""

from django.db import models


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


class WindowPreset(models.TextChoices):
    """The CT windows of ``imaging.windows.PRESETS`` by name: a stage may open in one of them."""

    NONE = "", "—"
    SOFT_TISSUE = "soft tissue", "Soft-tissue"
    BONE = "bone", "Bone"
    LUNG = "lung", "Lung"
    BRAIN = "brain", "Brain"


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
