"""The axial CT series of the pelvis."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import (
    CTImageStorage,
)

from .anatomy import CT_HU, CT_TEXTURE, _palette, _scene
from .common import SEVERITIES, Patient, _band_noise, _burn_label, _check_int, _gauss
from .geometry import _axial, _render
from .header import _clock, _day, _ds_number, _header, _pixels, _Series, _start, _Study, _uid

CT_FOV = 400.0
CT_CENTRE = (0.0, 5.0)
CT_TOP, CT_BOTTOM = 116.0, -73.0  # iliac crests to the proximal femoral shafts
TABLE_Z = -350.0  # patient z of the femoral head centres on the scanner


# What every slice's header says of its acquisition and display, beside what changes from slice to slice.
CT_ACQUISITION = {
    "PatientPosition": "FFS",
    "ScanOptions": "HELICAL MODE",
    "SliceThickness": "3",
    "KVP": "120",
    "DataCollectionDiameter": "500",
    "ReconstructionDiameter": _ds_number(CT_FOV),
    "DistanceSourceToDetector": "1085.6",
    "DistanceSourceToPatient": "595",
    "GantryDetectorTilt": "0",
    "TableHeight": "160",
    "RotationDirection": "CW",
    "ExposureTime": "500",
    "XRayTubeCurrent": 280,
    "Exposure": 140,
    "FilterType": "BODY",
    "GeneratorPower": 34,
    "FocalSpots": "1.2",
    "ConvolutionKernel": "BONE",
    "SpiralPitchFactor": 0.8,
    "CTDIvol": 12.4,
}
CT_DISPLAY = {
    "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
    "WindowCenter": [40, 400],
    "WindowWidth": [400, 1800],
    "WindowCenterWidthExplanation": ["SOFT TISSUE", "BONE"],
    "RescaleIntercept": "-1024",
    "RescaleSlope": "1",
    "RescaleType": "HU",
}


def ct_pelvis(
    *, patient: Patient, slices: int = 64, severity: int = 3, size: int = 512, seed: int = 0
) -> list[Dataset]:
    """Return an axial CT of the pelvis, one dataset per slice from the iliac crests down."""
    slices = _check_int("slices", slices, range(2, 1025))
    severity = _check_int("severity", severity, SEVERITIES)
    size = _check_int("size", size, range(64, 1025))
    seed = _check_int("seed", seed, range(2**63))
    scene = _scene(patient.seed, severity)
    px = CT_FOV / size
    spacing = (CT_TOP - CT_BOTTOM) / (slices - 1)
    rng = np.random.default_rng([seed, patient.seed, 11])
    texture = _band_noise(rng, (2 * size, 2 * size), max(0.6, 0.85 / px), max(2.0, 3.5 / px))
    palette = _palette(CT_HU)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    half = (size - 1) / 2
    fov = np.hypot(xx - half, yy - half) <= size / 2
    label_size = max(7, round(11 * size / 512))

    start = _start(patient, 1, 0)
    study, series = _ct_study(patient, seed, start)
    event = _uid(5, series.uid)
    out = []
    for k in range(slices):
        z = CT_TOP - k * spacing
        plane = _axial(z, size, px, CT_CENTRE)
        ox, oy = (int(v) for v in rng.integers(0, size, 2))
        hu = _render(scene, plane, palette, texture[oy : oy + size, ox : ox + size], CT_TEXTURE)[..., 0]
        hu = _gauss(hu, max(0.4, 0.45 / px))
        noise = _gauss(
            np.random.default_rng([seed, patient.seed, 12, k]).standard_normal((size, size), np.float32), 0.7
        )
        hu = np.where(fov, hu + 30.0 * noise, -1024.0).astype(np.float32)
        hu = _burn_label(hu, 1000.0, label_size)
        stored = np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.uint16)

        acquired = _clock(start + 125 + k * spacing / 40.0)
        ds = _header(
            patient,
            study,
            series,
            sop_class=CTImageStorage,
            modality="CT",
            instance=k + 1,
            acquired=acquired,
            image_type=["ORIGINAL", "PRIMARY", "AXIAL"],
            model="Synthetic CT 64",
        )
        for keyword, value in CT_ACQUISITION.items():
            setattr(ds, keyword, value)
        ds.SpacingBetweenSlices = _ds_number(spacing)
        ds.IrradiationEventUID = event
        ds.ImagePositionPatient = [_ds_number(plane.x0), _ds_number(plane.v0), _ds_number(z + TABLE_Z)]
        ds.SliceLocation = _ds_number(z + TABLE_Z)
        ds.PixelSpacing = [_ds_number(px, 6), _ds_number(px, 6)]
        for keyword, value in CT_DISPLAY.items():
            setattr(ds, keyword, value)
        _pixels(ds, stored, 12)
        out.append(ds)
    return out


# --------------------------------------------------------------------------
# MR


def _ct_study(patient: Patient, seed: int, start: float) -> tuple[_Study, _Series]:
    """Return the CT's study and its one series."""
    date = _day(patient, 0)
    study = _Study(
        _uid(1, patient.seed, "CT", date),
        date,
        _clock(start),
        "CT PELVIS WO CONTRAST",
        "Bilateral hip pain 8 months after road traffic accident. ?Heterotopic ossification",
    )
    series = _Series(
        _uid(2, study.uid, 2, seed),
        2,
        "CT PELVIS BONE R/O HO",
        "PELVIS BONE 3MM",
        _clock(start + 120),
        _uid(4, study.uid, "CT", seed),
    )
    return study, series
