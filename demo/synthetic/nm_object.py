"""The NM Image object of a bone-scan series: isotope, detectors and their views, frame vectors and counts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.uid import (
    NuclearMedicineImageStorage,
)

from .common import Patient
from .header import _clock, _code, _ds_number, _header, _pixels, _Series, _Study

DOSE_MBQ = "799.2"  # 21.6 mCi
HALF_LIFE_S = "21624.12"

VIEWS = {
    "ANT": (("G-5215", "SRT", "Anterior projection"), [1, 0, 0, 0, 0, -1], ["L", "F"]),
    "POST": (("G-5216", "SRT", "Posterior projection"), [-1, 0, 0, 0, 0, -1], ["R", "F"]),
}


def _nm_dataset(
    patient: Patient,
    study: _Study,
    series: _Series,
    frames: npt.NDArray[np.uint16],
    kind: str,
    px: float,
    views: tuple[str, ...],
    acquired: float,
    zoom: float = 1.0,
) -> Dataset:
    """Return an NM Image object: isotope, detectors, frame vectors and counts."""
    ds = _header(
        patient,
        study,
        series,
        sop_class=NuclearMedicineImageStorage,
        modality="NM",
        instance=1,
        acquired=_clock(acquired),
        image_type=["ORIGINAL", "PRIMARY", kind, "EMISSION"],
        model="Synthetic Dual-Head Camera",
    )
    n = frames.shape[0]
    ds.PatientOrientation = VIEWS[views[0]][2]
    ds.NumberOfFrames = n
    ds.FrameIncrementPointer = [Tag(0x0054, 0x0010), Tag(0x0054, 0x0020)]
    ds.NumberOfEnergyWindows = 1
    ds.EnergyWindowVector = [1] * n
    detectors = len(views)
    ds.NumberOfDetectors = detectors
    ds.DetectorVector = [1] * n if detectors == 1 else list(range(1, detectors + 1))
    ds.CountsAccumulated = int(frames.astype(np.int64).sum())
    ds.CorrectedImage = ["UNIF", "LIN", "ENER"]
    ds.PixelSpacing = [_ds_number(px), _ds_number(px)]

    _isotope(ds, study)

    ds.DetectorInformationSequence = _detectors(views, zoom)
    ds.PatientOrientationCodeSequence = DicomSequence([_code("F-10450", "99SDM", "recumbent")])
    ds.PatientOrientationCodeSequence[0].PatientOrientationModifierCodeSequence = DicomSequence(
        [_code("F-10340", "99SDM", "supine")]
    )
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([_code("F-10470", "99SDM", "headfirst")])
    _pixels(ds, frames, 16)
    return ds


def _isotope(ds: Dataset, study: _Study) -> None:
    """Write the energy window and the radiopharmaceutical given."""
    window = Dataset()
    window.EnergyWindowName = "TC99M"
    limits = Dataset()
    limits.EnergyWindowLowerLimit = "126"
    limits.EnergyWindowUpperLimit = "154"
    window.EnergyWindowRangeSequence = DicomSequence([limits])
    ds.EnergyWindowInformationSequence = DicomSequence([window])
    drug = Dataset()
    drug.Radiopharmaceutical = "Tc-99m MDP"
    drug.RadiopharmaceuticalRoute = "IV"
    drug.RadiopharmaceuticalStartTime = _clock(_seconds(study.time) + 300)
    drug.RadiopharmaceuticalStartDateTime = study.date + drug.RadiopharmaceuticalStartTime
    drug.RadionuclideTotalDose = DOSE_MBQ
    drug.RadionuclideHalfLife = HALF_LIFE_S
    drug.RadionuclideCodeSequence = DicomSequence([_code("C-163A8", "SRT", "^99m^Technetium")])
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([drug])


def _detectors(views: tuple[str, ...], zoom: float) -> DicomSequence:
    """Return the detector information of each view: collimator, field of view, orientation."""
    items = []
    for view in views:
        code, orientation, _ = VIEWS[view]
        item = Dataset()
        item.CollimatorGridName = "LEHR"
        item.CollimatorType = "PARA"
        item.FieldOfViewShape = "RECTANGLE"
        item.FieldOfViewDimensions = [533, 387]
        item.ZoomFactor = [_ds_number(zoom), _ds_number(zoom)]
        item.ImageOrientationPatient = orientation
        item.ViewCodeSequence = DicomSequence([_code(*code)])
        items.append(item)
    return DicomSequence(items)


def _seconds(tm: str) -> float:
    """Return a TM value as seconds after midnight."""
    return int(tm[0:2]) * 3600 + int(tm[2:4]) * 60 + float(tm[4:])


# --------------------------------------------------------------------------
# files
