"""The AP computed radiograph of the pelvis, from the 2-D phantom."""

from __future__ import annotations

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import (
    ComputedRadiographyImageStorage,
)

from demo import phantoms

from .common import SEVERITIES, Patient, SyntheticError, _check_int, _gauss
from .header import _clock, _day, _ds_number, _header, _pixels, _Series, _start, _Study, _uid

CR_SCALE = 2  # the phantom radiograph's 1024 × 860 pixels, doubled
CR_PIXEL = 0.2  # mm at the detector: the phantom's femoral heads are ~48 mm across at 0.4 mm per pixel


def pelvis_radiograph(*, patient: Patient, severity: int = 3, seed: int = 0, monochrome1: bool = True) -> list[Dataset]:
    """Return one 12-bit AP computed radiograph of the pelvis, stored MONOCHROME1 (bone dark) by default."""
    severity = _check_int("severity", severity, SEVERITIES)
    seed = _check_int("seed", seed, range(2**63))
    if not isinstance(monochrome1, bool):
        raise SyntheticError(f"monochrome1 must be True or False, got {monochrome1!r}")
    small = phantoms.render("pelvis_radiograph", severity=severity, arrows=False, seed=seed)
    size = (small.width * CR_SCALE, small.height * CR_SCALE)
    big = Image.fromarray(np.asarray(small, dtype=np.float32), "F").resize(size, Image.Resampling.BICUBIC)
    grey = np.asarray(big, dtype=np.float32) * (4095.0 / 255.0)
    mottle = _gauss(np.random.default_rng([seed, patient.seed, 31]).standard_normal(grey.shape, np.float32), 0.8)
    grey = np.clip(np.rint(grey + 12.0 * mottle), 0, 4095)
    stored = (4095 - grey if monochrome1 else grey).astype(np.uint16)

    start = _start(patient, 3, 0)
    date = _day(patient, 0)
    study = _Study(
        _uid(1, patient.seed, "CR", date),
        date,
        _clock(start),
        "XR PELVIS 1 VIEW",
        "Hip pain and stiffness both sides after major trauma. ?HO",
    )
    series = _Series(_uid(2, study.uid, 1, seed), 1, "AP PELVIS R/O HO", "PELVIS AP", _clock(start + 60))
    ds = _header(
        patient,
        study,
        series,
        sop_class=ComputedRadiographyImageStorage,
        modality="CR",
        instance=1,
        acquired=_clock(start + 75),
        image_type=["ORIGINAL", "PRIMARY"],
        model="Synthetic CR Reader",
    )
    ds.ViewPosition = "AP"
    ds.PatientOrientation = ["L", "F"]
    ds.KVP = "80"
    ds.DistanceSourceToDetector = "1150"
    ds.DistanceSourceToPatient = "950"
    ds.ExposureTime = "40"
    ds.XRayTubeCurrent = 500
    ds.Exposure = 20
    ds.Grid = ["FOCUSED"]
    ds.FocalSpots = "1.2"
    ds.PlateType = "ST-VI"
    ds.PhosphorType = "BaFBr"
    ds.Sensitivity = "200"
    ds.RelativeXRayExposure = 900
    ds.ImagerPixelSpacing = [_ds_number(CR_PIXEL), _ds_number(CR_PIXEL)]
    ds.EstimatedRadiographicMagnificationFactor = "1.21"
    ds.IrradiationEventUID = _uid(5, series.uid)
    # the window spans the patient, not the unattenuated background; it inverts with the stored values
    lo, hi = np.percentile(grey[grey > 400], (0.5, 99.8))
    centre = (lo + hi) / 2
    ds.WindowCenter = _ds_number(4095 - centre if monochrome1 else centre, 1)
    ds.WindowWidth = _ds_number(max(hi - lo, 1.0), 1)
    _pixels(ds, stored, 12, "MONOCHROME1" if monochrome1 else "MONOCHROME2")
    return [ds]


# --------------------------------------------------------------------------
# bone scintigraphy
