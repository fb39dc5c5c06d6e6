"""The labels of a series taken from coded attributes only: MR sequence, nuclear medicine phase, technique
(agent, nuclide and dose), never the free-text descriptions."""

import re

from pydicom.dataset import Dataset

from .attributes import as_list, first_number, frame_count, functional, functional_text, text
from .mosaic import is_mosaic

MBQ_PER_MCI = 37.0


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


def mr_sequence(dataset: Dataset) -> str:
    """Return a short MR weighting label: T1, T2, PD, STIR, FLAIR, GRE, DWI, EPI, or "" when unsure.

    Reads Scanning Sequence, Sequence Variant, Sequence Name and the timing
    (Repetition, Echo and Inversion Time, PS3.3 C.8.3.1) or, for enhanced
    MR, Echo Pulse Sequence and the MR timing macros (C.8.13.5).  Echo planar
    imaging other than diffusion (BOLD, perfusion) is "EPI": its long TR and
    short TE say nothing of proton density.
    """
    scanning = {str(v).upper() for v in as_list(dataset.get("ScanningSequence"))}
    variant = {str(v).upper() for v in as_list(dataset.get("SequenceVariant"))}
    name = text(dataset, "SequenceName").lower()
    pulse = text(dataset, "EchoPulseSequence").upper()  # enhanced MR: SPIN, GRADIENT, BOTH
    tr = first_number(dataset.get("RepetitionTime")) or first_number(
        functional(dataset, "MRTimingAndRelatedParametersSequence", "RepetitionTime")
    )
    te = first_number(dataset.get("EchoTime")) or first_number(
        functional(dataset, "MREchoSequence", "EffectiveEchoTime")
    )
    ti = first_number(dataset.get("InversionTime")) or first_number(
        functional(dataset, "MRModifierSequence", "InversionTimes")
    )
    inversion = (
        "IR" in scanning
        or "MP" in variant  # magnetisation prepared, as MP-RAGE
        or text(dataset, "InversionRecovery").upper() == "YES"
        or functional_text(dataset, "MRModifierSequence", "InversionRecovery") == "YES"
        or bool(re.match(r"^\*?t?ir", name))
    )
    gradient = "GR" in scanning or pulse == "GRADIENT" or bool(re.match(r"^\*?(fl|fi|tfl|me|de|ci|gre|fgre)", name))
    diffusion = (
        "EP" in scanning
        and ("DiffusionBValue" in dataset or "_b" in name or name.startswith("*ep_b") or name.startswith("ep_b"))
    ) or functional(dataset, "MRDiffusionSequence", "DiffusionBValue") is not None
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


def sequence_label(dataset: Dataset, modality: str) -> str:
    """Return the MR sequence label, "parametric map" for one, and "mosaic" when slices are still tiled in one image.

    A parametric map (ADC, T1 map, perfusion) has the timing of none of its sources: its values are computed.
    """
    if text(dataset, "SOPClassUID") == PARAMETRIC_MAP_STORAGE:
        return "parametric map"
    label = mr_sequence(dataset) if modality == "MR" else ""
    return f"{label} mosaic".strip() if is_mosaic(dataset) else label


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
    if (
        frame_count(dataset) >= FLOW_MIN_FRAMES
        and frame_seconds is not None
        and frame_seconds <= FLOW_MAX_FRAME_SECONDS
    ):
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


def seconds_of_day(value: str) -> float | None:
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
    start_datetime = text(info, "RadiopharmaceuticalStartDateTime")
    start = seconds_of_day(start_datetime[8:] if start_datetime else text(info, "RadiopharmaceuticalStartTime"))
    acquired = text(dataset, "AcquisitionTime") or text(dataset, "SeriesTime") or text(dataset, "ContentTime")
    moment = seconds_of_day(acquired) if acquired else None
    if start is None or moment is None:
        return None
    elapsed = moment - start
    if elapsed < -12 * 3600:  # acquired after midnight, injected before
        elapsed += 24 * 3600
    return elapsed / 60


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
    modality = text(dataset, "Modality").upper()
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
    agent = text(info, "Radiopharmaceutical")
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
