"""The triple-phase Tc-99m MDP bone scan: flow, blood pool, and delayed whole-body and spot views."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag

from .anatomy import NM_CLASSES, SIDES, _nm_palette, _scene
from .common import SCAN_PHASES, SEVERITIES, FloatArray, Patient, _burn_label, _check_choice, _check_int, _gauss
from .geometry import _coronal, _render
from .header import _clock, _day, _Series, _start, _Study, _uid
from .nm_object import _nm_dataset

NM_MU = 0.011  # broad-beam attenuation of 140 keV photons in soft tissue, per mm
NM_Y = np.arange(-150.0, 151.0, 6.0)  # coronal planes projected onto the camera
NM_BLUR_MM = 4.5  # collimator and scatter blur (sigma)
CAMERA_PX = 2.21  # mm: a 566 mm field on a 256 matrix
CAMERA_CENTRE = (0.0, 20.0)
SPOT_PX = 1.77  # zoom 1.25
WB_PX = 2.4
WB_SHAPE = (1024, 256)
WB_TOP = 1200.0
FLOW_FRAMES = 30  # of 2 s each
FLOW_LAST_COUNTS = 30_000.0  # in the last flow frame


@lru_cache(maxsize=6)
def _projection(seed: int, shape: tuple[int, int], px: float, centre: tuple[float, float]) -> FloatArray:
    """Return anterior and posterior projections of each compartment: 2 × rows × columns × compartments."""
    scene = _scene(seed, 3)
    palette = _nm_palette()
    out = np.zeros((2, *shape, len(NM_CLASSES)), dtype=np.float32)
    dy = float(NM_Y[1] - NM_Y[0])
    depth = np.zeros(shape, dtype=np.float32)  # tissue in front of the current plane, mm
    for y in NM_Y:
        img = _render(scene, _coronal(float(y), shape, px, centre), palette)
        tissue = img.sum(axis=-1)
        middle = depth + 0.5 * dy * tissue
        out[0] += img * (np.exp(-NM_MU * middle) * dy)[..., None]
        out[1] += img * (np.exp(NM_MU * middle) * dy)[..., None]  # rescaled by the total depth below
        depth += dy * tissue
    out[1] *= np.exp(-NM_MU * depth)[..., None]
    out.setflags(write=False)
    return out


def _gamma_variate(t: float, arrival: float, peak: float) -> float:
    """Return a first-pass bolus curve, 1 at its peak."""
    x = (t - arrival) / peak
    return x**3 * math.exp(3.0 * (1.0 - x)) if x > 0 else 0.0


def _flow_weights(t: float, activity: int) -> npt.NDArray[np.float32]:
    """Return compartment concentrations t seconds after injection."""
    artery = _gamma_variate(t, 8.0, 5.0) + 0.25 * (1 - math.exp(-max(t - 8.0, 0) / 12.0))
    vein = 0.7 * _gamma_variate(t, 14.0, 8.0) + 0.3 * (1 - math.exp(-max(t - 14.0, 0) / 15.0))
    soft = 0.05 * (1 - math.exp(-max(t - 11.0, 0) / 14.0))
    halo = soft * (1 + 1.4 * activity) + 0.04 * activity * _gamma_variate(t, 10.0, 6.0)
    bone = 0.02 * (1 - math.exp(-max(t - 12.0, 0) / 30.0))
    urine = 0.0
    return np.array([soft, bone, 1.2 * halo, halo, artery, vein, urine], dtype=np.float32)


def _poisson(rng: np.random.Generator, expected: FloatArray) -> npt.NDArray[np.uint16]:
    """Draw Poisson counts around an expected-count image."""
    return np.clip(rng.poisson(np.clip(expected, 0, None)), 0, 65535).astype(np.uint16)


def _counts(rng: np.random.Generator, expected: FloatArray, total: float) -> npt.NDArray[np.uint16]:
    """Scale an expected image to a total count and draw Poisson counts."""
    return _poisson(rng, expected * (total / max(float(expected.sum()), 1e-9)))


def _nm_label(frame: npt.NDArray[np.uint16], size: int) -> npt.NDArray[np.uint16]:
    """Burn the synthetic-data label into a count image at a mid-grey count."""
    value = 0.5 * float(np.percentile(frame, 99.5)) + 1.0
    return np.rint(_burn_label(frame.astype(np.float32), value, size)).astype(np.uint16)


# whole-body skeleton outside the 3-D model, as 2-D chords: (x0, z0, x1, z1, radius, depth), anterior and posterior
# attenuation; capsules have a circular or elliptical cross-section of the given depth
Chord = tuple[float, float, float, float, float, float, float, float]


def _wb_items() -> tuple[list[Chord], list[Chord], list[tuple[float, float, float, float, float, float, float]]]:
    """Return the whole-body outline, the skeleton outside the pelvis model, and the kidneys."""
    outline: list[Chord] = [
        (0, 780, 0, 840, 78, 95, 1, 1),  # head
        (0, 700, 0, 620, 52, 55, 1, 1),  # neck
        (0, 520, 0, 160, 165, 115, 1, 1),  # trunk
        (-175, 580, 175, 580, 55, 60, 1, 1),  # shoulders
        (0, 150, 0, -60, 178, 115, 1, 1),  # hips
    ]
    bones: list[Chord] = [
        (0, 722, 0, 600, 12, 12, 0.25, 0.4),  # cervical spine
        (0, 600, 0, 300, 16, 16, 0.15, 0.45),  # thoracic spine
        (0, 556, 0, 400, 14, 6, 0.6, 0.15),  # sternum
        (0, 745, 0, 735, 45, 14, 0.4, 0.25),  # facial bones
    ]
    for s in SIDES:
        outline += [
            (s * 95, -20, s * 85, -480, 80, 75, 1, 1),
            (s * 85, -480, s * 80, -900, 55, 55, 1, 1),
            (s * 85, -915, s * 85, -950, 40, 40, 1, 1),
            (s * 215, 590, s * 225, 300, 45, 45, 1, 1),
            (s * 228, 300, s * 238, 40, 38, 38, 1, 1),
            (s * 242, 10, s * 244, -70, 35, 18, 1, 1),
        ]
        bones += [
            (s * 52, 760, s * 45, 708, 7, 7, 0.35, 0.25),  # mandible
            (s * 45, 708, 0, 690, 7, 7, 0.35, 0.25),
            (s * 18, 578, s * 150, 600, 9, 9, 0.6, 0.25),  # clavicle
            (s * 100, 530, s * 125, 430, 30, 4, 0.2, 0.6),  # scapula
            (s * 80, 540, s * 160, 560, 7, 7, 0.2, 0.55),  # spine of scapula
            (s * 185, 578, s * 188, 570, 26, 26, 0.35, 0.35),  # humeral head
            (s * 195, 555, s * 220, 320, 11, 11, 0.45, 0.45),  # humerus
            (s * 210, 305, s * 236, 305, 14, 16, 0.4, 0.4),  # elbow
            (s * 215, 295, s * 230, 50, 6, 6, 0.45, 0.45),  # radius
            (s * 232, 295, s * 245, 50, 6, 6, 0.45, 0.45),  # ulna
            (s * 232, 30, s * 250, 30, 18, 12, 0.4, 0.4),  # carpus
            (s * 102, -478, s * 102, -492, 36, 26, 0.28, 0.28),  # femoral condyles
            (s * 102, -466, s * 102, -474, 15, 8, 0.5, 0.1),  # patella
            (s * 98, -512, s * 98, -518, 34, 24, 0.3, 0.3),  # tibial plateau
            (s * 96, -525, s * 85, -880, 13, 13, 0.55, 0.4),  # tibia
            (s * 128, -525, s * 118, -870, 6, 6, 0.35, 0.45),  # fibula
            (s * 85, -900, s * 85, -905, 22, 22, 0.35, 0.35),  # ankle
            (s * 88, -925, s * 88, -945, 30, 20, 0.35, 0.35),  # foot
        ]
        for k in range(5):  # metacarpals and fingers
            bones.append((s * (226 + 7 * k), 15, s * (224 + 9 * k), -80 + 8 * abs(k - 2), 3.5, 3.5, 0.45, 0.45))
        for i in range(11):  # ribs: posterior arc then anterior arc
            z0 = 565.0 - 23.0 * i
            lateral = 130.0 + 3.0 * min(i, 6)
            bones += [
                (s * 16, z0, s * (lateral - 20), z0 - 12, 5, 5, 0.2, 0.45),
                (s * (lateral - 20), z0 - 12, s * lateral, z0 - 55, 5, 5, 0.3, 0.3),
            ]
            if i < 9:
                bones.append((s * lateral, z0 - 55, s * (30 + 8 * i), z0 - 100 - 4 * i, 4.5, 4.5, 0.45, 0.2))
    kidneys = [(-55.0, 300.0, 30.0, 55.0, 45.0, 0.2, 0.5), (58.0, 320.0, 30.0, 55.0, 45.0, 0.2, 0.5)]
    return outline, bones, kidneys


def _capsule_chord(x: FloatArray, z: FloatArray, item: Chord) -> FloatArray:
    """Return the depth through a capsule seen from the front at each (x, z)."""
    x0, z0, x1, z1, r, depth = item[:6]
    vx, vz = x1 - x0, z1 - z0
    vv = max(vx * vx + vz * vz, 1e-9)
    t = np.clip(((x - x0) * vx + (z - z0) * vz) / vv, 0, 1)
    d2 = ((x - x0 - t * vx) ** 2 + (z - z0 - t * vz) ** 2) / (r * r)
    return (2.0 * depth * np.sqrt(np.clip(1.0 - d2, 0, None))).astype(np.float32)


def _whole_body(seed: int, activity: int) -> tuple[FloatArray, FloatArray]:
    """Return expected anterior and posterior whole-body images (rows × columns)."""
    rows, cols = WB_SHAPE
    x = (-(cols - 1) / 2 * WB_PX + WB_PX * np.arange(cols, dtype=np.float32))[None, :]
    z = (WB_TOP - WB_PX * np.arange(rows, dtype=np.float32))[:, None]
    outline, bones, kidneys = _wb_items()
    thickness = np.zeros((rows, cols), dtype=np.float32)
    for item in outline:
        thickness = np.maximum(thickness, _capsule_chord(x, z, item))
    soft = (1.0 - np.exp(-NM_MU * thickness)) / NM_MU  # attenuated path length
    views = []
    for v in (0, 1):
        img = 0.012 * soft
        for item in bones:
            img = img + item[6 + v] * _capsule_chord(x, z, item)
        # skull vault: the difference of two ellipsoids
        vault = _capsule_chord(x, z, (0, 800, 0, 830, 74, 90, 1, 1)) - _capsule_chord(
            x, z, (0, 800, 0, 830, 66, 82, 1, 1)
        )
        img = img + 0.3 * vault
        for kx, kz, a, b, depth, att_a, att_p in kidneys:
            k2 = ((x - kx) / a) ** 2 + ((z - kz) / b) ** 2
            img = img + 0.12 * (att_a, att_p)[v] * 2 * depth * np.sqrt(np.clip(1 - k2, 0, None))
        views.append(img.astype(np.float32))
    # the pelvis, lumbar spine and femora from the 3-D model
    top, bottom = 300.0, -486.0
    r0 = int(math.ceil((WB_TOP - top) / WB_PX))
    r1 = int(math.floor((WB_TOP - bottom) / WB_PX))
    centre_z = WB_TOP - WB_PX * (r0 + r1 - 1) / 2
    proj = _projection(seed, (r1 - r0, cols), WB_PX, (0.0, centre_z))
    weights = _delayed_weights(activity)
    weights[NM_CLASSES.index("soft")] = 0.0  # the outline above already holds the soft tissue
    for v in (0, 1):
        views[v][r0:r1] += proj[v] @ weights
    return views[0], views[1]


def _delayed_weights(activity: int) -> npt.NDArray[np.float32]:
    """Return compartment uptake about three hours after injection."""
    return np.array([0.012, 1.0, 1.0 + 1.1 * activity, 0.012 + 0.01 * activity, 0.01, 0.01, 2.0], dtype=np.float32)


def bone_scan(*, patient: Patient, phase: str, activity: int = 3, seed: int = 0, day_offset: int = 0) -> list[Dataset]:
    """Return one phase ("flow", "blood_pool" or "delayed") of a triple-phase Tc-99m MDP bone scan."""
    phase = _check_choice("phase", phase, SCAN_PHASES)
    activity = _check_int("activity", activity, SEVERITIES)
    seed = _check_int("seed", seed, range(2**63))
    day_offset = _check_int("day_offset", day_offset, range(0, 3651))
    rng = np.random.default_rng([seed, patient.seed, 41, SCAN_PHASES.index(phase)])
    date = _day(patient, day_offset)
    injected = _start(patient, 4, day_offset, span_hours=3)  # the delayed images follow some 3 hours later
    study = _Study(
        _uid(1, patient.seed, "NM", date),
        date,
        _clock(injected - 300),
        "NM BONE SCAN 3 PHASE",
        "Restricted painful hips after trauma. ?Heterotopic ossification, maturity before resection",
    )
    frame_of_reference = _uid(4, study.uid, "NM")

    def series(number: int, description: str, protocol: str, at: float) -> _Series:
        return _Series(_uid(2, study.uid, number, seed), number, description, protocol, _clock(at), frame_of_reference)

    make = {"flow": _flow, "blood_pool": _blood_pool, "delayed": _delayed}[phase]
    return make(patient, study, series, rng, activity, injected)


def _flow(
    patient: Patient,
    study: _Study,
    series: Callable[..., _Series],
    rng: np.random.Generator,
    activity: int,
    injected: float,
) -> list[Dataset]:
    """The flow phase: one dynamic object of two-second anterior frames from the injection."""
    proj = _projection(patient.seed, (256, 256), CAMERA_PX, CAMERA_CENTRE)[0]
    proj = proj.reshape(128, 2, 128, 2, len(NM_CLASSES)).sum(axis=(1, 3))
    scale = FLOW_LAST_COUNTS / float((proj @ _flow_weights(FLOW_FRAMES * 2.0 - 1.0, activity)).sum())
    frames = []
    for k in range(FLOW_FRAMES):
        expected = _gauss(proj @ _flow_weights(2.0 * k + 1.0, activity), NM_BLUR_MM / (2 * CAMERA_PX))
        frames.append(_nm_label(_poisson(rng, expected * scale), 7))
    s = series(1, "FLOW ANT PELVIS 2S/FR R/O HO", "3PH BONE FLOW", injected)
    ds = _nm_dataset(patient, study, s, np.stack(frames), "DYNAMIC", 2 * CAMERA_PX, ("ANT",), injected)
    ds.ActualFrameDuration = 2000
    ds.FrameTime = "2000"
    ds.AcquisitionTerminationCondition = "TIME"
    ds.NumberOfPhases = 1
    ds.PhaseVector = [1] * FLOW_FRAMES
    ds.NumberOfTimeSlices = FLOW_FRAMES
    ds.TimeSliceVector = list(range(1, FLOW_FRAMES + 1))
    info = Dataset()
    info.PhaseDelay = 0
    info.ActualFrameDuration = 2000
    info.PauseBetweenFrames = 0
    info.NumberOfFramesInPhase = FLOW_FRAMES
    info.PhaseDescription = "FLOW"
    ds.PhaseInformationSequence = DicomSequence([info])
    ds.FrameIncrementPointer = [Tag(0x0054, 0x0010), Tag(0x0054, 0x0020), Tag(0x0054, 0x0030), Tag(0x0054, 0x0100)]
    return [ds]


def _blood_pool(
    patient: Patient,
    study: _Study,
    series: Callable[..., _Series],
    rng: np.random.Generator,
    activity: int,
    injected: float,
) -> list[Dataset]:
    """The blood-pool phase: one static anterior image five minutes after the injection."""
    proj = _projection(patient.seed, (256, 256), CAMERA_PX, CAMERA_CENTRE)[0]
    weights = np.array(
        [0.05, 0.06, 0.08 * (1 + activity), 0.05 * (1 + 1.5 * activity), 0.35, 0.45, 0.15], dtype=np.float32
    )
    expected = _gauss(proj @ weights, NM_BLUR_MM / CAMERA_PX)
    frame = _nm_label(_counts(rng, expected, 450_000.0), 8)
    at = injected + 300
    s = series(2, "BLOOD POOL ANT PELVIS R/O HO", "3PH BONE BLOOD POOL", at)
    ds = _nm_dataset(patient, study, s, frame[None], "STATIC", CAMERA_PX, ("ANT",), at)
    ds.ActualFrameDuration = 180_000
    ds.AcquisitionTerminationCondition = "CNTS"
    return [ds]


def _delayed(
    patient: Patient,
    study: _Study,
    series: Callable[..., _Series],
    rng: np.random.Generator,
    activity: int,
    injected: float,
) -> list[Dataset]:
    """The delayed phase: anterior and posterior whole-body views, and an anterior spot view of the pelvis."""
    at = injected + 3 * 3600 + 600
    ant, post = _whole_body(patient.seed, activity)
    sigma = NM_BLUR_MM / WB_PX
    views = [_nm_label(_counts(rng, _gauss(v, sigma), total), 8) for v, total in ((ant, 1.9e6), (post[:, ::-1], 2.0e6))]
    wb = series(3, "WB DELAYED ANT/POST R/O HO", "WHOLE BODY BONE", at)
    ds_wb = _nm_dataset(patient, study, wb, np.stack(views), "WHOLE BODY", WB_PX, ("ANT", "POST"), at)
    ds_wb.WholeBodyTechnique = ["1PS"]
    ds_wb.ScanVelocity = "2"
    ds_wb.ScanLength = round(WB_SHAPE[0] * WB_PX)
    ds_wb.ActualFrameDuration = round(WB_SHAPE[0] * WB_PX / 2.0 * 1000)
    ds_wb.AcquisitionTerminationCondition = "TIME"

    spot_at = at + 25 * 60
    proj = _projection(patient.seed, (256, 256), SPOT_PX, CAMERA_CENTRE)[0]
    expected = _gauss(proj @ _delayed_weights(activity), NM_BLUR_MM / SPOT_PX)
    frame = _nm_label(_counts(rng, expected, 800_000.0), 8)
    spot = series(4, "SPOT ANT PELVIS DELAYED R/O HO", "BONE SPOT PELVIS", spot_at)
    ds_spot = _nm_dataset(patient, study, spot, frame[None], "STATIC", SPOT_PX, ("ANT",), spot_at, zoom=1.25)
    ds_spot.ActualFrameDuration = 240_000
    ds_spot.AcquisitionTerminationCondition = "CNTS"
    return [ds_wb, ds_spot]
