"""Windows: the presets per modality and body part (the viewer receives them with each stage), the
header's own window, and one found from the values."""

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from .attributes import first_number, functional_item

CROSS_SECTIONAL = frozenset({"CT", "MR", "PT"})


AUTO_PERCENTILES = (1.0, 99.0)


AUTO_SAMPLE_PIXELS = 262_144  # percentiles of a 512×512 sample are as good as of the whole image, and cheaper


_HEAD_PARTS = {"HEAD", "BRAIN", "SKULL", "HEADNECK", "IAC", "ORBIT", "SINUS", "FACE"}


_CHEST_PARTS = {"CHEST", "LUNG", "THORAX", "CHESTABDOMEN", "CHESTABDPELVIS"}


@dataclass(frozen=True)
class Window:
    """A VOI linear window: centre and width in real-world values (HU for CT)."""

    center: float
    width: float
    name: str = ""


SOFT_TISSUE = Window(40, 400, "soft tissue")


BONE = Window(400, 1800, "bone")  # Radiopaedia, "Windowing (CT)": bones W1800 L400


LUNG = Window(-600, 1500, "lung")


BRAIN = Window(40, 80, "brain")


PRESETS: dict[str, list[Window]] = {
    "CT": [SOFT_TISSUE, BONE, LUNG, BRAIN],
    "CT:HEAD": [BRAIN, BONE, SOFT_TISSUE],
    "CT:CHEST": [LUNG, SOFT_TISSUE, BONE],
    "MR": [],
    "NM": [],
    "PT": [],
    "CR": [],
    "DX": [],
    "US": [],
}


"""Window presets by modality, or "modality:region" for a body part; empty means automatic. The viewer gets
them with each stage's data (``cases.selectors``): this table is their only source."""


def presets_for(ds: Dataset) -> list[Window]:
    """Return the window presets for a dataset's modality and body part, the most likely first."""
    return presets_for_part(str(ds.get("Modality") or ""), str(ds.get("BodyPartExamined") or ""))


def presets_for_part(modality: str, body_part: str = "") -> list[Window]:
    """Return the window presets for a modality and body part (as DICOM names them), the most likely first."""
    modality = modality.upper()
    part = body_part.upper().replace(" ", "")
    if modality == "CT" and part in _HEAD_PARTS:
        return list(PRESETS["CT:HEAD"])
    if modality == "CT" and part in _CHEST_PARTS:
        return list(PRESETS["CT:CHEST"])
    return list(PRESETS.get(modality, []))


def default_window(ds: Dataset, values: np.ndarray, *, frame_index: int = 0) -> Window:
    """Return the window to show a grey-scale frame with first.

    The file's own Window Center and Width (first pair, or the Frame VOI LUT
    functional group) win; then a CT preset by body part (brain for the head,
    soft tissue otherwise); then the 1st to 99th percentile of the values.

    References
    ----------
    DICOM PS3.3 C.11.2 (VOI LUT module), C.7.6.16.2.10 (Frame VOI LUT).
    """
    window = window_before_values(ds, frame_index)
    return auto_window(values) if window is None else window


def window_before_values(ds: Dataset, frame_index: int = 0) -> Window | None:
    """Return ``default_window``'s choice when the values do not decide it (the file's own or a CT preset), or None."""
    window = header_window(ds, frame_index)
    if window is not None:
        return window
    if str(ds.get("Modality") or "").upper() == "CT":
        part = str(ds.get("BodyPartExamined") or "").upper().replace(" ", "")
        return BRAIN if part in _HEAD_PARTS else SOFT_TISSUE
    return None


def header_window(ds: Dataset, frame_index: int) -> Window | None:
    source: Dataset | None = ds if "WindowCenter" in ds else functional_item(ds, "FrameVOILUTSequence", frame_index)
    if source is None:
        return None
    center, width = first_number(source.get("WindowCenter")), first_number(source.get("WindowWidth"))
    if center is None or width is None or width < 1:
        return None
    return Window(center, width, _first_text(source.get("WindowCenterWidthExplanation")))


def _first_text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | bytes) and hasattr(value, "__len__"):
        value = value[0] if len(value) else ""
    return str(value).strip()


def auto_window(values: np.ndarray) -> Window:
    """Return a window spanning the 1st to 99th percentile of the values (a sample of them for large images).

    The window is at least 1 wide, unless the values are fractions spread over less than 1 (a parametric map).
    """
    flat = values.reshape(-1)
    step = max(1, flat.size // AUTO_SAMPLE_PIXELS)
    sample = flat[::step]
    low, high = (float(v) for v in np.percentile(sample, AUTO_PERCENTILES))
    width = high - low
    if not 0 < width < 1 or np.array_equal(sample, np.round(sample)):
        width = max(width, 1.0)  # whole numbers: never narrower than one step
    return Window(low + width / 2, width, "auto")


def preset_named(name: str) -> Window | None:
    """Return the preset of ``PRESETS`` called ``name`` ("bone", "soft tissue"…), or None."""
    return next((window for windows in PRESETS.values() for window in windows if window.name == name), None)


def linear_display(values: np.ndarray, window: Window, *, invert: bool = False) -> np.ndarray:
    """Return 8-bit grey levels of real-world values through a linear window, as the viewer draws them.

    The viewer's ``windowInto`` (static/js/viewer/windowing.js): ``(value - (centre - width / 2)) × 255 /
    width``, clipped to 0–255 and truncated, so a page's picture in a stage's window matches the viewer's.
    """
    low, scale = window.center - window.width / 2, 255 / max(window.width, 1e-6)
    levels = np.clip((values.astype(np.float32) - low) * scale, 0, 255).astype(np.uint8)
    return 255 - levels if invert else levels
