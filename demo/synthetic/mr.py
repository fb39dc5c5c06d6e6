"""The coronal T1 and STIR MR series of the pelvis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import (
    MRImageStorage,
)

from .anatomy import MR_SIGNAL, MR_TEXTURE, _palette, _scene
from .common import MR_SEQUENCES, SEVERITIES, Patient, _band_noise, _burn_label, _check_choice, _check_int, _gauss
from .ct import TABLE_Z
from .geometry import _coronal, _render
from .header import _clock, _day, _ds_number, _header, _pixels, _Series, _start, _Study, _uid

MR_SIZE = 384
MR_FOV = 384.0
MR_CENTRE = (0.0, 20.0)  # x, z
MR_SLICE_GAP = 6.0


@dataclass(frozen=True)
class _Sequence:
    """The acquisition parameters of one MR series."""

    number: int
    description: str
    protocol: str
    scanning: tuple[str, ...]
    variant: tuple[str, ...]
    name: str
    tr: str
    te: str
    ti: str | None
    echo_train: int
    options: str


MR_PARAMETERS = {
    "T1": _Sequence(3, "COR T1 TSE PELVIS R/O HO", "PELVIS COR T1", ("SE",), ("SK", "SP"), "*tse2d1_3", "550", "12",
                    None, 3, "SAT1"),
    "STIR": _Sequence(4, "COR STIR PELVIS R/O HO", "PELVIS COR STIR", ("SE", "IR"), ("SK", "SP", "MP"),
                      "*tir2d1_15", "4500", "40", "150", 15, "IR"),
}  # fmt: skip


def mr_pelvis(
    *, patient: Patient, sequence: str = "T1", slices: int = 16, severity: int = 3, seed: int = 0
) -> list[Dataset]:
    """Return a coronal T1 or STIR MR of the pelvis, one dataset per slice from front to back."""
    sequence = _check_choice("sequence", sequence, MR_SEQUENCES)
    slices = _check_int("slices", slices, range(1, 129))
    severity = _check_int("severity", severity, SEVERITIES)
    seed = _check_int("seed", seed, range(2**63))
    scene = _scene(patient.seed, severity)
    params = MR_PARAMETERS[sequence]
    n = MR_SIZE
    px = MR_FOV / n
    rng = np.random.default_rng([seed, patient.seed, 21, MR_SEQUENCES.index(sequence)])
    texture = _band_noise(rng, (2 * n, 2 * n), 0.8, 2.5)
    palette = _palette(MR_SIGNAL[sequence])
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    r2 = ((xx - n / 2) / (n / 2)) ** 2
    shading = (0.86 + 0.28 * r2) * (1.0 - 0.12 * ((yy - n / 2) / (n / 2)) ** 2)

    start = _start(patient, 2, 0)
    series_time = start + (300 if sequence == "T1" else 660)
    study, series = _mr_study(patient, seed, start, series_time, params)
    out = []
    for k in range(slices):
        y = (k - (slices - 1) / 2) * MR_SLICE_GAP + 5.0
        plane = _coronal(y, (n, n), px, MR_CENTRE)
        ox, oy = (int(v) for v in rng.integers(0, n, 2))
        sig = _render(scene, plane, palette, texture[oy : oy + n, ox : ox + n], MR_TEXTURE[sequence])[..., 0]
        sig = _gauss(sig * shading, 0.7)
        noise = np.random.default_rng([seed, patient.seed, 22, k]).standard_normal((2, n, n), np.float32) * 14.0
        sig = np.sqrt((sig + noise[0]) ** 2 + noise[1] ** 2)
        sig = _burn_label(sig, 1000.0, 9)
        stored = np.clip(np.rint(sig), 0, 4095).astype(np.uint16)

        ds = _header(
            patient,
            study,
            series,
            sop_class=MRImageStorage,
            modality="MR",
            instance=k + 1,
            acquired=_clock(series_time + 5),
            image_type=["ORIGINAL", "PRIMARY", "M", "ND"],
            model="Synthetic MR 1.5T",
        )
        _mr_acquisition(ds, params)
        ds.ImagePositionPatient = [_ds_number(plane.x0), _ds_number(y), _ds_number(plane.v0 + TABLE_Z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
        ds.SliceLocation = _ds_number(y)
        ds.PixelSpacing = [_ds_number(px, 6), _ds_number(px, 6)]
        body = stored[stored > 60]
        lo, hi = np.percentile(body, (1, 99.5)) if body.size else (0.0, 1000.0)
        ds.WindowCenter = _ds_number((lo + hi) / 2, 1)
        ds.WindowWidth = _ds_number(max(hi - lo, 1.0), 1)
        _pixels(ds, stored, 12)
        out.append(ds)
    return out


# --------------------------------------------------------------------------
# CR


def _mr_study(patient: Patient, seed: int, start: float, series_time: float, params: _Sequence):
    """Return the MR's study and the series of this sequence."""
    date = _day(patient, 0)
    study = _Study(
        _uid(1, patient.seed, "MR", date),
        date,
        _clock(start),
        "MRI PELVIS WO CONTRAST",
        "Bilateral hip pain after trauma. Known HO on CT, assess maturity",
    )
    series = _Series(
        _uid(2, study.uid, params.number, seed),
        params.number,
        params.description,
        params.protocol,
        _clock(series_time),
        _uid(4, study.uid, "MR"),
    )
    return study, series


def _mr_acquisition(ds: Dataset, params: _Sequence) -> None:
    """Write how a slice of this sequence was acquired into its header."""
    ds.PatientPosition = "HFS"
    ds.ScanningSequence = list(params.scanning) if len(params.scanning) > 1 else params.scanning[0]
    ds.SequenceVariant = list(params.variant)
    ds.ScanOptions = params.options
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = params.name
    ds.SliceThickness = "5"
    ds.RepetitionTime = params.tr
    ds.EchoTime = params.te
    if params.ti is not None:
        ds.InversionTime = params.ti
    ds.NumberOfAverages = "2"
    ds.ImagingFrequency = "63.677"
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = "1"
    ds.MagneticFieldStrength = "1.5"
    ds.SpacingBetweenSlices = _ds_number(MR_SLICE_GAP)
    ds.EchoTrainLength = params.echo_train
    ds.PixelBandwidth = "200"
    ds.ReceiveCoilName = "BODY ARRAY"
    ds.TransmitCoilName = "BODY"
    ds.AcquisitionMatrix = [0, 320, 256, 0]
    ds.InPlanePhaseEncodingDirection = "ROW"
    ds.FlipAngle = "150"
    ds.SAR = "1.2"
