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

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from .mosaic import is_mosaic
from .withheld import quiet_pydicom

__all__ = ["SeriesGroup", "group_series", "mr_sequence", "nm_phase", "orientation_plane", "technique"]

MBQ_PER_MCI = 37.0
# the largest angle between a slice normal and a patient axis for the slice to keep that axis's plane name
OBLIQUE_DEGREES = 30.0
BLOOD_POOL_MINUTES = 20.0  # blood pool images are taken within minutes of the flow study
DELAYED_MINUTES = 60.0  # delayed (skeletal) images follow 2-4 hours after injection
FLOW_MAX_FRAME_SECONDS = 10.0
FLOW_MIN_FRAMES = 10

_ELEMENTS = {
    "technetium": "Tc",
    "fluorine": "F",
    "iodine": "I",
    "indium": "In",
    "gallium": "Ga",
    "thallium": "Tl",
    "xenon": "Xe",
    "krypton": "Kr",
    "rubidium": "Rb",
    "nitrogen": "N",
    "carbon": "C",
    "oxygen": "O",
    "zirconium": "Zr",
    "lutetium": "Lu",
    "yttrium": "Y",
    "radium": "Ra",
    "samarium": "Sm",
    "strontium": "Sr",
    "copper": "Cu",
    "chromium": "Cr",
}
PARAMETRIC_MAP_STORAGE = "1.2.840.10008.5.1.4.1.1.30"
_XRAY_MODALITIES = {"CT", "CR", "DX", "MG", "XA", "RF", "IO", "PX"}


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
    uid = _text(dataset, "SeriesInstanceUID")
    if uid:
        return uid
    # without a Series Instance UID, keep what plainly belongs together together
    return f"?{_text(dataset, 'StudyInstanceUID')}|{_text(dataset, 'Modality')}|{_text(dataset, 'SeriesNumber')}"


def _make_group(instances: list[Dataset]) -> SeriesGroup:
    first = instances[0]
    modality = _text(first, "Modality").upper()
    ordered = _spatial_order(instances)
    return SeriesGroup(
        series_uid=_text(first, "SeriesInstanceUID"),
        modality=modality,
        body_part=_text(first, "BodyPartExamined"),
        plane=_series_plane(ordered),
        sequence=_sequence_label(first, modality),
        phase=nm_phase(first) if modality == "NM" else "",
        technique=technique(first),
        description=_text(first, "SeriesDescription"),
        order_key=_order_key(instances),
        instances=ordered,
        frame_count=sum(_frames(instance) for instance in instances),
    )


# --------------------------------------------------------------------------
# small readers


def _text(dataset: Dataset, keyword: str) -> str:
    """Return an attribute as stripped text ("" when absent or empty)."""
    value = dataset.get(keyword)
    if value is None:
        return ""
    if not isinstance(value, str | bytes) and isinstance(value, Sequence) and len(value):
        value = value[0]
    return str(value).strip()


def first_number(value: Any) -> float | None:
    """Return value (or its first item) as a finite float, or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | bytes) and isinstance(value, Sequence):
        if not len(value):
            return None
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _frames(dataset: Dataset) -> int:
    number = first_number(dataset.get("NumberOfFrames"))
    return int(number) if number and number >= 1 else 1


def _functional(dataset: Dataset, sequence: str, keyword: str) -> Any:
    """Return keyword from a functional group macro: shared groups first, else the first frame's.

    PS3.3 C.7.6.16: enhanced multi-frame objects move per-image attributes
    such as Image Orientation (Patient) into functional group sequences.
    """
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        try:
            item = dataset.get(groups)[0].get(sequence)[0]
        except (TypeError, IndexError, AttributeError):
            continue
        value = item.get(keyword)
        if value is not None:
            return value
    return None


def _orientation(dataset: Dataset) -> np.ndarray | None:
    """Return the row and column direction cosines as a 2×3 array, or None."""
    value = dataset.get("ImageOrientationPatient")
    if value is None:
        value = _functional(dataset, "PlaneOrientationSequence", "ImageOrientationPatient")
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
        value = _functional(dataset, "PlanePositionSequence", "ImagePositionPatient")
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


# --------------------------------------------------------------------------
# order


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
            _text(dataset, "SOPInstanceUID"),
        )

    return sorted(instances, key=key)


def _order_key(instances: list[Dataset]) -> tuple[str, str, int]:
    """Return (study date, earliest series/acquisition date and time, series number) for ordering series."""
    study_date = min(filter(None, (_text(d, "StudyDate") for d in instances)), default="")
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
        date, time = _text(dataset, date_keyword), _text(dataset, time_keyword)
        if date or time:
            return (date or _text(dataset, "StudyDate")) + time.replace(":", "")
    acquired = _text(dataset, "AcquisitionDateTime")
    return acquired[:21]


# --------------------------------------------------------------------------
# labels


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


def mr_sequence(dataset: Dataset) -> str:
    """Return a short MR weighting label: T1, T2, PD, STIR, FLAIR, GRE, DWI, EPI, or "" when unsure.

    Reads Scanning Sequence, Sequence Variant, Sequence Name and the timing
    (Repetition, Echo and Inversion Time, PS3.3 C.8.3.1) or, for enhanced
    MR, Echo Pulse Sequence and the MR timing macros (C.8.13.5).  Echo planar
    imaging other than diffusion (BOLD, perfusion) is "EPI": its long TR and
    short TE say nothing of proton density.
    """
    scanning = {str(v).upper() for v in _as_list(dataset.get("ScanningSequence"))}
    variant = {str(v).upper() for v in _as_list(dataset.get("SequenceVariant"))}
    name = _text(dataset, "SequenceName").lower()
    pulse = _text(dataset, "EchoPulseSequence").upper()  # enhanced MR: SPIN, GRADIENT, BOTH
    tr = first_number(dataset.get("RepetitionTime")) or first_number(
        _functional(dataset, "MRTimingAndRelatedParametersSequence", "RepetitionTime")
    )
    te = first_number(dataset.get("EchoTime")) or first_number(
        _functional(dataset, "MREchoSequence", "EffectiveEchoTime")
    )
    ti = first_number(dataset.get("InversionTime")) or first_number(
        _functional(dataset, "MRModifierSequence", "InversionTimes")
    )
    inversion = (
        "IR" in scanning
        or "MP" in variant  # magnetisation prepared, as MP-RAGE
        or _text(dataset, "InversionRecovery").upper() == "YES"
        or _text_functional(dataset, "MRModifierSequence", "InversionRecovery") == "YES"
        or bool(re.match(r"^\*?t?ir", name))
    )
    gradient = "GR" in scanning or pulse == "GRADIENT" or bool(re.match(r"^\*?(fl|fi|tfl|me|de|ci|gre|fgre)", name))
    diffusion = (
        "EP" in scanning
        and ("DiffusionBValue" in dataset or "_b" in name or name.startswith("*ep_b") or name.startswith("ep_b"))
    ) or _functional(dataset, "MRDiffusionSequence", "DiffusionBValue") is not None
    if diffusion:
        return "DWI"
    if inversion and ti:
        if ti <= 300:
            return "STIR"
        if ti >= 1500:
            return "FLAIR"
        return "T1"  # T1 FLAIR and MP-RAGE invert at 700-1200 ms for T1 contrast
    if "EP" in scanning:
        return "EPI"
    if gradient:
        return "GRE"
    if tr is None or te is None:
        return ""
    if tr <= 1000 and te <= 30:
        return "T1"
    if tr >= 1500 and te >= 60:
        return "T2"
    if tr >= 1500 and te <= 40:
        return "PD"
    return ""


def _sequence_label(dataset: Dataset, modality: str) -> str:
    """Return the MR sequence label, "parametric map" for one, and "mosaic" when slices are still tiled in one image.

    A parametric map (ADC, T1 map, perfusion) has the timing of none of its sources: its values are computed.
    """
    if _text(dataset, "SOPClassUID") == PARAMETRIC_MAP_STORAGE:
        return "parametric map"
    label = mr_sequence(dataset) if modality == "MR" else ""
    return f"{label} mosaic".strip() if is_mosaic(dataset) else label


def _text_functional(dataset: Dataset, sequence: str, keyword: str) -> str:
    value = _functional(dataset, sequence, keyword)
    return str(value).strip().upper() if value is not None else ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def nm_phase(dataset: Dataset) -> str:
    """Return "flow", "blood_pool", "delayed" or "" for one nuclear medicine series of a three-phase study.

    A dynamic acquisition of many short frames is the flow (angiographic)
    phase; otherwise the time from injection (Radiopharmaceutical Start Time)
    to acquisition decides: within ``BLOOD_POOL_MINUTES`` blood pool, after
    ``DELAYED_MINUTES`` delayed.  ``group_series`` also places series relative
    to a flow series of the same study when the injection time is missing.

    References
    ----------
    DICOM PS3.3 C.8.4.8 and C.8.4.9 (NM Image and NM Multi-frame: Actual
    Frame Duration in ms, Phase Information Sequence), C.8.4.10 (NM Isotope:
    Radiopharmaceutical Information Sequence and Start Time).
    """
    frame_seconds = _frame_seconds(dataset)
    if _frames(dataset) >= FLOW_MIN_FRAMES and frame_seconds is not None and frame_seconds <= FLOW_MAX_FRAME_SECONDS:
        return "flow"
    minutes = _minutes_after_injection(dataset)
    if minutes is not None:
        if 0 <= minutes <= BLOOD_POOL_MINUTES:
            return "blood_pool"
        if minutes >= DELAYED_MINUTES:
            return "delayed"
    return ""


def _frame_seconds(dataset: Dataset) -> float | None:
    milliseconds = first_number(dataset.get("ActualFrameDuration"))
    if milliseconds is None:
        for phase in dataset.get("PhaseInformationSequence") or []:
            milliseconds = first_number(phase.get("ActualFrameDuration"))
            if milliseconds is not None:
                break
    return milliseconds / 1000 if milliseconds is not None else None


def _seconds_of_day(value: str) -> float | None:
    """Return a DICOM TM (HHMMSS.ffffff, or the old HH:MM:SS) as seconds since midnight."""
    match = re.match(r"^(\d{2})(\d{2})?(\d{2})?(\.\d+)?$", value.replace(":", ""))
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    return int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0) + float(fraction or 0)


def _minutes_after_injection(dataset: Dataset) -> float | None:
    info = _radiopharmaceutical(dataset)
    if info is None:
        return None
    start_datetime = _text(info, "RadiopharmaceuticalStartDateTime")
    start = _seconds_of_day(start_datetime[8:] if start_datetime else _text(info, "RadiopharmaceuticalStartTime"))
    acquired = _text(dataset, "AcquisitionTime") or _text(dataset, "SeriesTime") or _text(dataset, "ContentTime")
    moment = _seconds_of_day(acquired) if acquired else None
    if start is None or moment is None:
        return None
    elapsed = moment - start
    if elapsed < -12 * 3600:  # acquired after midnight, injected before
        elapsed += 24 * 3600
    return elapsed / 60


def _phases_from_study_timing(groups: list[SeriesGroup]) -> None:
    """Fill missing NM phases from their time after a flow series of the same study."""
    flows: dict[str, float] = {}
    for group in groups:
        start = _group_seconds(group)
        if group.phase == "flow" and start is not None:
            study = _text(group.instances[0], "StudyInstanceUID")
            flows.setdefault(study, start)
    for group in groups:
        if group.modality != "NM" or group.phase:
            continue
        flow = flows.get(_text(group.instances[0], "StudyInstanceUID"))
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
    seconds = _seconds_of_day(moment[8:])
    return None if seconds is None else float(days) * 86400 + seconds


def _radiopharmaceutical(dataset: Dataset) -> Dataset | None:
    try:
        return dataset.RadiopharmaceuticalInformationSequence[0]
    except (AttributeError, IndexError):
        return None


def technique(dataset: Dataset) -> str:
    """Return a short technique line: dose and agent (NM, PET), kVp (CT and radiography), TR/TE (MR).

    Examples: "21.6 mCi (799 MBq) Tc-99m MDP", "120 kVp", "TR 500 ms, TE 15 ms".

    References
    ----------
    DICOM PS3.3 C.8.4.10 (Radionuclide Total Dose, in MBq), C.8.2.1 (KVP),
    C.8.3.1 (Repetition, Echo and Inversion Time, in ms).
    """
    modality = _text(dataset, "Modality").upper()
    if modality in ("NM", "PT"):
        return _dose_text(dataset)
    if modality in _XRAY_MODALITIES:
        kvp = first_number(dataset.get("KVP"))
        return f"{_plain(kvp)} kVp" if kvp else ""
    if modality == "MR":
        parts = []
        for label, keyword in (("TR", "RepetitionTime"), ("TE", "EchoTime"), ("TI", "InversionTime")):
            value = first_number(dataset.get(keyword))
            if value:
                parts.append(f"{label} {_plain(value)} ms")
        return ", ".join(parts)
    return ""


def _plain(value: float) -> str:
    """Return a number as people write it: whole numbers without decimals, small ones with one."""
    if abs(value - round(value)) < 1e-6 or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2g}"


def _dose_text(dataset: Dataset) -> str:
    info = _radiopharmaceutical(dataset)
    if info is None:
        return ""
    agent = _agent(info)
    dose = first_number(info.get("RadionuclideTotalDose"))
    if not dose or dose <= 0:
        return agent
    megabecquerels = dose / 1e6 if dose > 1e5 else dose  # PS3.3 says MBq; some PET systems write Bq
    millicuries = megabecquerels / MBQ_PER_MCI
    curie_text = f"{millicuries:.1f}" if millicuries >= 1 else f"{millicuries:.2g}"
    becquerel_text = f"{megabecquerels:.0f}" if megabecquerels >= 10 else f"{megabecquerels:.1f}"
    return f"{curie_text} mCi ({becquerel_text} MBq) {agent}".strip()


def _agent(info: Dataset) -> str:
    """Return "<nuclide> <agent>", e.g. "Tc-99m MDP", from the radiopharmaceutical item."""
    agent = _text(info, "Radiopharmaceutical")
    if not agent:
        try:
            agent = str(info.RadiopharmaceuticalCodeSequence[0].CodeMeaning).strip()
        except (AttributeError, IndexError):
            agent = ""
    try:
        nuclide = _nuclide(str(info.RadionuclideCodeSequence[0].CodeMeaning))
    except (AttributeError, IndexError):
        nuclide = ""
    if nuclide and not _mentions(agent, nuclide):
        return f"{nuclide} {agent}".strip()
    return agent


def _nuclide(meaning: str) -> str:
    """Return "Tc-99m" for the coded meaning "^99m^Technetium" (CID 18, PS3.16)."""
    match = re.match(r"^\^(\d+m?)\^\s*([A-Za-z]+)", meaning.strip())
    if not match:
        return meaning.strip()
    mass, element = match.groups()
    return f"{_ELEMENTS.get(element.lower(), element)}-{mass}"


def _mentions(agent: str, nuclide: str) -> bool:
    """Return whether agent already names the nuclide, however it is spelled (Tc99m, Tc-99m, 99mTc)."""
    symbol, mass = nuclide.split("-", 1) if "-" in nuclide else (nuclide, "")
    squashed = re.sub(r"[^a-z0-9]", "", agent.lower())
    return bool(mass) and (f"{symbol.lower()}{mass}" in squashed or f"{mass}{symbol.lower()}" in squashed)
