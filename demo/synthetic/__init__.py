"""Synthetic DICOM studies of the pelvis, with planted fake identifiers, for the demo content.

No real patient image may be committed, so the demo imaging is generated here:
an axial CT series, coronal T1 and STIR MR series, an AP computed radiograph
and a triple-phase Tc-99m MDP bone scan, all of one made-up man with
heterotopic ossification (HO) around both hips.

The CT, MR and nuclear medicine images are cut from, or projected through, one
3-D model of the pelvis written as approximate signed distance functions in
patient coordinates (millimetres, DICOM LPS: x to the patient's left, y
posterior, z superior; z = 0 at the centres of the femoral heads).  Each
tissue is composited in order, so one model gives Hounsfield units, MR signal
or tracer uptake depending on the palette.  The radiograph reuses the 2-D
phantom of :mod:`demo.phantoms`.

Each function returns the datasets of one series or phase: one per slice for
CT and MR; one CR object; for the bone scan, "flow" is one dynamic NM object
of 30 anterior two-second frames, "blood_pool" one static anterior image and
"delayed" an anterior and posterior whole-body object plus an anterior pelvic
spot view.  Studies are fixed by the patient, the modality and the day: the
three bone-scan phases share a study, and ``day_offset`` puts a later study
that many days after the patient's study date.

The headers are realistic for each modality and carry every value of
:data:`PLANTED` — names, IDs, dates, a UID root with an MRN-like component,
free text that gives the diagnosis away, a private block and nested
sequences — so that tests can prove the de-identification pipeline removes
them all.  Every UID, date and time derives from the arguments, and the same
arguments give byte-identical files.  Each image carries a small burned-in
"SYNTHETIC" label, like every other demo image; it does not identify anyone,
so Burned In Annotation stays "NO".

References
----------
DICOM PS3.3 2024b: A.2 (CR Image IOD), A.3 (CT Image IOD), A.4 (MR Image
IOD), A.5 (NM Image IOD), C.7.6.2 (Image Plane), C.8.4.8-C.8.4.14 (NM
Multi-frame, Image, Isotope, Detector and Phase Modules).
"""

from .anatomy import HEAD_CENTRE_X
from .common import MR_SEQUENCES, PLANTED, PRIVATE_CREATOR, PRIVATE_GROUP, SCAN_PHASES, Patient, SyntheticError
from .ct import TABLE_Z, ct_pelvis
from .files import planted_study_files
from .mr import mr_pelvis
from .nm import bone_scan
from .radiograph import pelvis_radiograph

__all__ = [
    "HEAD_CENTRE_X",
    "MR_SEQUENCES",
    "PLANTED",
    "PRIVATE_CREATOR",
    "PRIVATE_GROUP",
    "SCAN_PHASES",
    "TABLE_Z",
    "Patient",
    "SyntheticError",
    "bone_scan",
    "ct_pelvis",
    "mr_pelvis",
    "pelvis_radiograph",
    "planted_study_files",
]
