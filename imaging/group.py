"""Group datasets into series, order them, and describe each series for the author.

A series is every dataset sharing a Series Instance UID; multi-frame objects
(nuclear medicine dynamics, ultrasound cine, enhanced CT and MR) are frames of
their series.  Within a series the instances are ordered in space, along the
slice normal; series are ordered by acquisition time.  Each group carries the
labels a teaching-file series needs (plane, MR sequence, nuclear medicine
phase, technique) derived from coded attributes only: the free-text Series
Description may name the patient or the diagnosis, so it is handed back for
the author to see and never used as a label.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from .attributes import first_number, frame_count, functional, text
from .labels import (
    BLOOD_POOL_MINUTES,
    DELAYED_MINUTES,
    mr_sequence,
    nm_phase,
    seconds_of_day,
    sequence_label,
    technique,
)
from .withheld import quiet_pydicom

__all__ = ["SeriesGroup", "group_series", "mr_sequence", "nm_phase", "orientation_plane", "technique"]


# the largest angle between a slice normal and a patient axis for the slice to keep that axis's plane name
OBLIQUE_DEGREES = 30.0


@dataclass
class SeriesGroup:
    """One series of an upload, its instances in spatial order, and its labels.

    ``description`` is the Series Description, held for the author to read: it
    may carry patient data or the diagnosis, so it is never used as a label.
    ``order_key`` is (study date, series date and time, series number).
    """

    series_uid: str
    modality: str
    body_part: str
    plane: str
    sequence: str
    phase: str
    technique: str
    description: str
    order_key: tuple[str, str, int]
    instances: list[Dataset] = field(repr=False)
    frame_count: int


def group_series(datasets: Iterable[Dataset]) -> list[SeriesGroup]:
    """Split datasets into series, each in spatial order, the series in acquisition order.

    References
    ----------
    DICOM PS3.3 C.7.3.1 (General Series: Series Instance UID, Series Number,
    date and time), C.7.6.2 (Image Plane: Image Position and Image Orientation
    (Patient)), C.7.6.16 (Multi-frame Functional Groups).
    """
    by_series: dict[str, list[Dataset]] = {}
    with quiet_pydicom():  # reading header values: pydicom's warnings would quote an invalid one
        for dataset in datasets:
            by_series.setdefault(_series_key(dataset), []).append(dataset)
        groups = [_make_group(instances) for instances in by_series.values()]
    groups.sort(key=lambda group: (group.order_key, group.series_uid))
    _phases_from_study_timing(groups)
    return groups


def _series_key(dataset: Dataset) -> str:
    uid = text(dataset, "SeriesInstanceUID")
    if uid:
        return uid
    # without a Series Instance UID, keep what plainly belongs together together
    return f"?{text(dataset, 'StudyInstanceUID')}|{text(dataset, 'Modality')}|{text(dataset, 'SeriesNumber')}"


def _make_group(instances: list[Dataset]) -> SeriesGroup:
    first = instances[0]
    modality = text(first, "Modality").upper()
    ordered = _spatial_order(instances)
    return SeriesGroup(
        series_uid=text(first, "SeriesInstanceUID"),
        modality=modality,
        body_part=text(first, "BodyPartExamined"),
        plane=_series_plane(ordered),
        sequence=sequence_label(first, modality),
        phase=nm_phase(first) if modality == "NM" else "",
        technique=technique(first),
        description=text(first, "SeriesDescription"),
        order_key=_order_key(instances),
        instances=ordered,
        frame_count=sum(frame_count(instance) for instance in instances),
    )


def _orientation(dataset: Dataset) -> np.ndarray | None:
    """Return the row and column direction cosines as a 2×3 array, or None."""
    value = dataset.get("ImageOrientationPatient")
    if value is None:
        value = functional(dataset, "PlaneOrientationSequence", "ImageOrientationPatient")
    try:
        cosines = np.array([float(v) for v in value], dtype=float).reshape(2, 3)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(cosines).all() or np.linalg.norm(cosines[0]) < 0.5 or np.linalg.norm(cosines[1]) < 0.5:
        return None
    return cosines


def _position(dataset: Dataset, frame_index: int | None = None) -> np.ndarray | None:
    """Return Image Position (Patient): of one frame's Plane Position functional group when asked and given."""
    value = None
    if frame_index is not None:
        try:
            item = dataset.PerFrameFunctionalGroupsSequence[frame_index].PlanePositionSequence[0]
            value = item.get("ImagePositionPatient")
        except (AttributeError, IndexError, TypeError):
            value = None
    if value is None:
        value = dataset.get("ImagePositionPatient")
    if value is None:
        value = functional(dataset, "PlanePositionSequence", "ImagePositionPatient")
    try:
        position = np.array([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        return None
    return position if position.shape == (3,) and np.isfinite(position).all() else None


def _normal(cosines: np.ndarray) -> np.ndarray:
    normal = np.cross(cosines[0], cosines[1])
    return normal / (np.linalg.norm(normal) or 1.0)


def slice_position(dataset: Dataset, *, frame_index: int = 0) -> float | None:
    """Return the position of a frame along its slice normal in mm, or None without geometry.

    A frame's own Plane Position (Per-frame Functional Groups) counts first;
    without one, the object's Image Position (Patient) stands for every frame.

    References
    ----------
    DICOM PS3.3 C.7.6.2.1.1: the normal is the cross product of the row and column direction cosines;
    C.7.6.16.2.3 (Plane Position (Patient) macro).
    """
    cosines, position = _orientation(dataset), _position(dataset, frame_index)
    if cosines is None or position is None:
        return None
    return float(position @ _normal(cosines))


def _spatial_order(instances: list[Dataset]) -> list[Dataset]:
    """Return instances by position along the slice normal, then Instance Number, then SOP Instance UID.

    The first instance's normal (row cosine × column cosine, PS3.3
    C.7.6.2.1.1) is used for all, so small per-slice jitter does not matter;
    instances without a position come last.
    """
    normal = next((_normal(c) for c in map(_orientation, instances) if c is not None), None)

    def key(dataset: Dataset) -> tuple[int, float, float, str]:
        position = _position(dataset)
        along = float(position @ normal) if position is not None and normal is not None else math.inf
        number = first_number(dataset.get("InstanceNumber"))
        return (
            0 if math.isfinite(along) else 1,
            along if math.isfinite(along) else 0.0,
            number if number is not None else math.inf,
            text(dataset, "SOPInstanceUID"),
        )

    return sorted(instances, key=key)


def _order_key(instances: list[Dataset]) -> tuple[str, str, int]:
    """Return (study date, earliest series/acquisition date and time, series number) for ordering series."""
    study_date = min(filter(None, (text(d, "StudyDate") for d in instances)), default="")
    moments = [moment for moment in map(_moment, instances) if moment]
    number = first_number(instances[0].get("SeriesNumber"))
    return (study_date, min(moments, default=""), int(number) if number is not None else 2**31)


def _moment(dataset: Dataset) -> str:
    """Return the series (else acquisition, else content) date and time as a sortable YYYYMMDDHHMMSS.ffffff."""
    for date_keyword, time_keyword in (
        ("SeriesDate", "SeriesTime"),
        ("AcquisitionDate", "AcquisitionTime"),
        ("ContentDate", "ContentTime"),
    ):
        date, time = text(dataset, date_keyword), text(dataset, time_keyword)
        if date or time:
            return (date or text(dataset, "StudyDate")) + time.replace(":", "")
    acquired = text(dataset, "AcquisitionDateTime")
    return acquired[:21]


def orientation_plane(cosines: Sequence[float]) -> str:
    """Return "axial", "coronal", "sagittal" or "oblique" for an Image Orientation (Patient).

    The plane is the one whose axis lies within ``OBLIQUE_DEGREES`` of the
    slice normal (row cosine × column cosine; PS3.3 C.7.6.2.1.1, patient
    axes x to the left, y to the back, z to the head).
    """
    normal = _normal(np.asarray(cosines, dtype=float).reshape(2, 3))
    axis = int(np.argmax(np.abs(normal)))
    if abs(normal[axis]) < math.cos(math.radians(OBLIQUE_DEGREES)):
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _series_plane(instances: list[Dataset]) -> str:
    """Return the plane shared by every oriented instance, "" when none is oriented or they disagree."""
    planes = {orientation_plane(c.ravel()) for c in map(_orientation, instances) if c is not None}
    return planes.pop() if len(planes) == 1 else ""


def _phases_from_study_timing(groups: list[SeriesGroup]) -> None:
    """Fill missing NM phases from their time after a flow series of the same study."""
    flows: dict[str, float] = {}
    for group in groups:
        start = _group_seconds(group)
        if group.phase == "flow" and start is not None:
            study = text(group.instances[0], "StudyInstanceUID")
            flows.setdefault(study, start)
    for group in groups:
        if group.modality != "NM" or group.phase:
            continue
        flow = flows.get(text(group.instances[0], "StudyInstanceUID"))
        start = _group_seconds(group)
        if flow is None or start is None or start < flow:
            continue
        minutes = (start - flow) / 60
        if minutes <= BLOOD_POOL_MINUTES:
            group.phase = "blood_pool"
        elif minutes >= DELAYED_MINUTES:
            group.phase = "delayed"


def _group_seconds(group: SeriesGroup) -> float | None:
    moment = group.order_key[1]
    if len(moment) < 10:
        return None
    try:
        days = np.datetime64(f"{moment[:4]}-{moment[4:6]}-{moment[6:8]}", "D").astype(int)
    except ValueError:
        return None
    seconds = seconds_of_day(moment[8:])
    return None if seconds is None else float(days) * 86400 + seconds
