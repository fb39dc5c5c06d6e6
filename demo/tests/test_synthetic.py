"""Tests for the synthetic DICOM studies with planted identifiers; plain pytest, no database."""

import io
import re
from functools import cache

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from demo import synthetic
from demo.synthetic import (
    PLANTED,
    Patient,
    SyntheticError,
    bone_scan,
    ct_pelvis,
    mr_pelvis,
    pelvis_radiograph,
    planted_study_files,
)

PATIENT = Patient()
UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")

# small but complete studies keep the suite fast; the default sizes are exercised by the bench
CT_ARGS = {"slices": 16, "size": 256}


@cache
def _ct(severity: int = 3, seed: int = 0) -> tuple[Dataset, ...]:
    return tuple(ct_pelvis(patient=PATIENT, severity=severity, seed=seed, **CT_ARGS))


@cache
def _mr(sequence: str) -> tuple[Dataset, ...]:
    return tuple(mr_pelvis(patient=PATIENT, sequence=sequence, slices=5))


@cache
def _cr(monochrome1: bool = True) -> tuple[Dataset, ...]:
    return tuple(pelvis_radiograph(patient=PATIENT, monochrome1=monochrome1))


@cache
def _nm(phase: str, activity: int = 3, day_offset: int = 0) -> tuple[Dataset, ...]:
    return tuple(bone_scan(patient=PATIENT, phase=phase, activity=activity, day_offset=day_offset))


def _studies() -> dict[str, tuple[Dataset, ...]]:
    return {
        "ct": _ct(),
        "mr-t1": _mr("T1"),
        "mr-stir": _mr("STIR"),
        "cr": _cr(),
        "nm-flow": _nm("flow"),
        "nm-blood-pool": _nm("blood_pool"),
        "nm-delayed": _nm("delayed"),
    }


@cache
def _files(name: str) -> dict[str, bytes]:
    return planted_study_files(list(_studies()[name]))


STUDIES = ["ct", "mr-t1", "mr-stir", "cr", "nm-flow", "nm-blood-pool", "nm-delayed"]


def _hu(ds: Dataset) -> np.ndarray:
    """Return a CT slice in Hounsfield units, applying the modality LUT from the header."""
    return ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def _axial_roi(ds: Dataset, x: float, y: float, r_in: float, r_out: float) -> np.ndarray:
    """Return the boolean mask of an annulus (model x, y in mm) on an axial slice, located through its header."""
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    x0, y0, _ = (float(v) for v in ds.ImagePositionPatient)
    xs = x0 + col_mm * np.arange(ds.Columns)[None, :]
    ys = y0 + row_mm * np.arange(ds.Rows)[:, None]
    r = np.hypot(xs - x, ys - y)
    return (r >= r_in) & (r <= r_out)


def _coronal_roi(ds: Dataset, x: float, z: float, radius: float) -> np.ndarray:
    """Return the boolean mask of a disc (model x, z in mm) on a coronal slice."""
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    x0, _, z0 = (float(v) for v in ds.ImagePositionPatient)
    xs = x0 + col_mm * np.arange(ds.Columns)[None, :]
    zs = z0 - synthetic.TABLE_Z - row_mm * np.arange(ds.Rows)[:, None]
    return np.hypot(xs - x, zs - z) <= radius


def _model_z(ds: Dataset) -> float:
    return float(ds.ImagePositionPatient[2]) - synthetic.TABLE_Z


def _nearest(series: tuple[Dataset, ...], z: float) -> Dataset:
    return min(series, key=lambda ds: abs(_model_z(ds) - z))


# --------------------------------------------------------------------------
# determinism


def test_same_arguments_give_byte_identical_files():
    first = planted_study_files(ct_pelvis(patient=PATIENT, slices=3, size=128, seed=5))
    second = planted_study_files(ct_pelvis(patient=PATIENT, slices=3, size=128, seed=5))
    assert first == second
    flow = planted_study_files(bone_scan(patient=PATIENT, phase="flow", seed=5))
    assert flow == planted_study_files(bone_scan(patient=PATIENT, phase="flow", seed=5))


def test_another_seed_gives_other_bytes_and_other_uids():
    first = ct_pelvis(patient=PATIENT, slices=3, size=128, seed=5)
    other = ct_pelvis(patient=PATIENT, slices=3, size=128, seed=6)
    for a, b in zip(planted_study_files(first).values(), planted_study_files(other).values(), strict=True):
        assert a != b
    assert first[0].SeriesInstanceUID != other[0].SeriesInstanceUID
    assert first[0].StudyInstanceUID == other[0].StudyInstanceUID  # same patient, same day: same study
    pool = bone_scan(patient=PATIENT, phase="blood_pool", seed=1)[0]
    assert pool.PixelData != _nm("blood_pool")[0].PixelData


# --------------------------------------------------------------------------
# planted identifiers and files


@pytest.mark.parametrize("name", STUDIES)
def test_every_object_carries_every_planted_value_in_its_saved_bytes(name):
    for file_name, data in _files(name).items():
        missing = [key for key, value in PLANTED.items() if value.encode("ascii") not in data]
        assert not missing, f"{file_name} lacks {missing}"


@pytest.mark.parametrize("name", STUDIES)
def test_file_names_carry_the_patient_name_and_each_file_reads_back_with_pixels(name):
    datasets = _studies()[name]
    files = _files(name)
    assert len(files) == len(datasets)
    for (file_name, data), original in zip(files.items(), datasets, strict=True):
        assert PLANTED["PatientName"] in file_name
        assert file_name.endswith(".dcm")
        assert data[128:132] == b"DICM"
        ds = pydicom.dcmread(io.BytesIO(data))
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert np.array_equal(ds.pixel_array, original.pixel_array)


def test_planted_identifiers_sit_in_their_attributes_and_nested_sequences():
    ds = _ct()[0]
    assert ds.PatientName == PLANTED["PatientName"]
    assert ds.PatientID == PLANTED["PatientID"]
    assert ds.PatientBirthDate == PLANTED["BirthDate"]
    assert ds.StudyDate == ds.SeriesDate == ds.AcquisitionDate == ds.ContentDate == PLANTED["StudyDate"]
    assert ds.OtherPatientIDsSequence[0].PatientID == PLANTED["OtherPatientID"]
    request = ds.RequestAttributesSequence[0]
    assert request.AccessionNumber == PLANTED["AccessionNumber"]
    assert request.RequestingPhysician == PLANTED["ReferringPhysicianName"]
    assert request.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == PLANTED["InstitutionName"]
    block = ds.private_block(synthetic.PRIVATE_GROUP, synthetic.PRIVATE_CREATOR)
    assert block[0x10].value == PLANTED["PrivateName"]
    assert (0x0029, 0x1010) in ds
    assert "HO" in ds.SeriesDescription  # diagnosis-revealing free text the pipeline must hold back
    assert ds.BurnedInAnnotation == "NO"
    assert (ds.PatientAge, ds.PatientSex, ds.PatientWeight) == ("042Y", "M", 78)


def test_every_uid_is_valid_under_the_planted_root_and_instances_are_unique():
    seen = set()
    for datasets in _studies().values():
        for ds in datasets:
            for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
                if keyword not in ds:
                    assert keyword == "FrameOfReferenceUID" and ds.Modality == "CR"
                    continue
                uid = str(ds[keyword].value)
                assert uid.startswith(PLANTED["UIDRoot"] + ".")
                assert len(uid) <= 64 and UID.match(uid)
            assert ds.SOPInstanceUID not in seen
            seen.add(ds.SOPInstanceUID)


# --------------------------------------------------------------------------
# CT


def test_ct_has_the_requested_slices_descending_from_the_iliac_crests():
    series = ct_pelvis(patient=PATIENT, slices=7, size=128)
    assert len(series) == 7
    z = [float(ds.ImagePositionPatient[2]) for ds in series]
    assert all(a > b for a, b in zip(z, z[1:], strict=False))
    assert [ds.InstanceNumber for ds in series] == list(range(1, 8))
    assert len({ds.SeriesInstanceUID for ds in series}) == 1
    assert [float(v) for v in series[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]


def test_ct_header_describes_hounsfield_units_and_two_windows():
    ds = _ct()[0]
    assert ds.SOPClassUID == pydicom.uid.CTImageStorage
    assert (ds.Modality, ds.BodyPartExamined, float(ds.KVP)) == ("CT", "PELVIS", 120.0)
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
    assert (float(ds.RescaleIntercept), float(ds.RescaleSlope)) == (-1024.0, 1.0)
    assert [float(v) for v in ds.WindowCenter] == [40, 400]
    assert [float(v) for v in ds.WindowWidth] == [400, 1800]
    assert len(ds.WindowCenterWidthExplanation) == 2
    assert float(ds.SliceThickness) == 3.0
    assert ds.pixel_array.dtype == np.uint16 and ds.pixel_array.max() <= 4095


def test_ct_default_geometry_is_512_pixels_of_about_078_mm_every_3_mm():
    series = ct_pelvis(patient=PATIENT, slices=64, size=512)[:2]
    assert (series[0].Rows, series[0].Columns) == (512, 512)
    assert abs(float(series[0].PixelSpacing[0]) - 0.78) < 0.01
    assert float(series[0].ImagePositionPatient[2]) - float(series[1].ImagePositionPatient[2]) == pytest.approx(3.0)


def test_ct_cortical_bone_is_dense_and_fat_is_negative():
    bottom = _ct()[-1]  # proximal femoral shafts: thick cortex around the marrow canal
    shaft_x, shaft_y = 133 - 28 * (-50 - _model_z(bottom)) / 420, 10 - 7 * (-50 - _model_z(bottom)) / 420
    hu = _hu(bottom)
    for side in (-1, 1):
        assert hu[_axial_roi(bottom, side * shaft_x, shaft_y, 10.5, 13.5)].mean() > 700
        assert hu[_axial_roi(bottom, side * shaft_x, shaft_y, 0, 5)].mean() < 200  # fatty marrow in the canal
    fat_slice = _nearest(_ct(), 60.0)
    assert np.median(_hu(fat_slice)[_axial_roi(fat_slice, 0.0, -100.0, 0, 4)]) < -50
    assert np.median(_hu(bottom)[_axial_roi(bottom, 0.0, -160.0, 0, 8)]) < -900  # air in front of the patient


def test_ct_anatomy_changes_with_slice_from_crests_to_femoral_heads():
    top, middle = _ct()[0], _nearest(_ct(), 0.0)
    for side in (-1, 1):
        head = (side * synthetic.HEAD_CENTRE_X, 0.0, 0, 8)
        assert _hu(middle)[_axial_roi(middle, *head)].mean() > 150  # femoral head
        assert _hu(top)[_axial_roi(top, *head)].mean() < 100  # soft tissue above the hips


def _dense_near_hips(series: tuple[Dataset, ...]) -> int:
    total = 0
    for ds in series:
        row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
        xs = float(ds.ImagePositionPatient[0]) + col_mm * np.arange(ds.Columns)
        lateral = np.abs(xs) >= 112  # beside the hips, lateral to the acetabula
        total += int((_hu(ds)[:, lateral] > 600).sum())
    return total


def test_ct_heterotopic_bone_adds_dense_voxels_beside_the_hips():
    none, severe = _dense_near_hips(_ct(severity=0)), _dense_near_hips(_ct(severity=3))
    assert severe > 1.5 * none + 500


def test_ct_heterotopic_bone_is_zonal_with_a_dense_rim_and_softer_centre():
    severe, none = _ct(severity=3), _ct(severity=0)
    rims = sum(int(((_hu(a) > 700) & (_hu(b) < 300)).sum()) for a, b in zip(severe, none, strict=True))
    cores = sum(
        int(((_hu(a) > 150) & (_hu(a) < 450) & (_hu(b) < 100)).sum()) for a, b in zip(severe, none, strict=True)
    )
    assert rims > 0 and cores > 0


# --------------------------------------------------------------------------
# MR


def test_mr_is_coronal_with_positions_stepping_back_along_y():
    for sequence in ("T1", "STIR"):
        series = _mr(sequence)
        assert len(series) == 5
        y = [float(ds.ImagePositionPatient[1]) for ds in series]
        assert all(a < b for a, b in zip(y, y[1:], strict=False))
        assert [float(v) for v in series[0].ImageOrientationPatient] == [1, 0, 0, 0, 0, -1]
        assert series[0].SOPClassUID == pydicom.uid.MRImageStorage
        assert float(series[0].MagneticFieldStrength) == 1.5
        assert series[0].pixel_array.dtype == np.uint16


def test_mr_sequence_parameters_match_t1_and_stir():
    t1, stir = _mr("T1")[0], _mr("STIR")[0]
    assert t1.ScanningSequence == "SE" and "InversionTime" not in t1
    assert float(t1.RepetitionTime) < 1000 and float(t1.EchoTime) < 30
    assert "IR" in stir.ScanningSequence and float(stir.InversionTime) == 150
    assert t1.SeriesInstanceUID != stir.SeriesInstanceUID
    assert t1.StudyInstanceUID == stir.StudyInstanceUID
    assert t1.FrameOfReferenceUID == stir.FrameOfReferenceUID


def _mr_median(ds: Dataset, x: float, z: float) -> float:
    return float(np.median(ds.pixel_array[_coronal_roi(ds, x, z, 4.0)]))


def test_mr_fat_is_bright_on_t1_and_suppressed_on_stir():
    t1, stir = _mr("T1")[2], _mr("STIR")[2]  # the middle slice
    for side in (-1, 1):
        fat, muscle = (side * 168.0, -100.0), (side * 55.0, -110.0)  # thigh subcutaneous fat; adductor muscle
        assert _mr_median(t1, *fat) > 1.5 * _mr_median(t1, *muscle)
        assert _mr_median(stir, *fat) < 0.6 * _mr_median(stir, *muscle)


def test_mr_stir_shows_oedema_around_heterotopic_bone_only_when_severe():
    def oedema(severity: int) -> float:
        ds = mr_pelvis(patient=PATIENT, sequence="STIR", slices=1, severity=severity)[0]
        x0 = float(ds.ImagePositionPatient[0])
        xs = x0 + float(ds.PixelSpacing[1]) * np.arange(ds.Columns)
        return float(np.percentile(ds.pixel_array[:, np.abs(xs) > 150], 99))

    assert oedema(3) > 1.5 * oedema(0)


# --------------------------------------------------------------------------
# CR


def test_cr_is_one_12_bit_ap_radiograph_stored_monochrome1():
    (ds,) = _cr()
    assert ds.SOPClassUID == pydicom.uid.ComputedRadiographyImageStorage
    assert (ds.Modality, ds.ViewPosition, ds.PhotometricInterpretation) == ("CR", "AP", "MONOCHROME1")
    assert (ds.BitsStored, ds.HighBit) == (12, 11)
    assert ds.Rows >= 1700 and ds.Columns >= 2000
    assert len(ds.ImagerPixelSpacing) == 2
    assert ds.pixel_array.max() <= 4095


def test_cr_monochrome1_stores_bone_dark_as_the_inverse_of_monochrome2():
    (inverted,), (plain,) = _cr(True), _cr(False)
    assert plain.PhotometricInterpretation == "MONOCHROME2"
    a, b = inverted.pixel_array.astype(np.int32), plain.pixel_array.astype(np.int32)
    assert np.array_equal(a + b, np.full_like(a, 4095))
    # the right femoral head (phantom coordinates doubled) against the soft tissue between the thighs
    head = a[900:980, 520:600].mean()
    soft = a[1560:1640, 984:1064].mean()
    assert head < soft
    assert float(inverted.WindowWidth) == pytest.approx(float(plain.WindowWidth))


# --------------------------------------------------------------------------
# NM


def test_flow_is_one_dynamic_multiframe_object_of_two_second_frames():
    (ds,) = _nm("flow")
    assert ds.SOPClassUID == pydicom.uid.NuclearMedicineImageStorage
    assert ds.NumberOfFrames >= 20
    assert ds.pixel_array.shape == (ds.NumberOfFrames, 128, 128)
    assert ds.ImageType[2] == "DYNAMIC"
    assert float(ds.ActualFrameDuration) == float(ds.FrameTime) == 2000
    assert ds.PhaseInformationSequence[0].NumberOfFramesInPhase == ds.NumberOfFrames
    assert Tag(0x0054, 0x0030) in [Tag(t) for t in ds.FrameIncrementPointer]
    assert len(ds.TimeSliceVector) == len(ds.EnergyWindowVector) == ds.NumberOfFrames
    counts = ds.pixel_array.reshape(ds.NumberOfFrames, -1).sum(axis=1)
    assert counts[-1] > 3 * counts[5]  # activity builds up as the bolus arrives


def test_nm_stores_poisson_counts_as_monochrome2():
    (ds,) = _nm("blood_pool")
    counts = ds.pixel_array
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert counts.dtype == np.uint16 and (ds.Rows, ds.Columns) == (256, 256)
    assert int(ds.CountsAccumulated) == int(counts.astype(np.int64).sum())
    assert (ds.BitsAllocated, ds.BitsStored) == (16, 16)


def test_radiopharmaceutical_is_tc99m_mdp_at_7992_mbq():
    for phase in synthetic.SCAN_PHASES:
        for ds in _nm(phase):
            drug = ds.RadiopharmaceuticalInformationSequence[0]
            assert float(drug.RadionuclideTotalDose) == 799.2
            assert drug.Radiopharmaceutical == "Tc-99m MDP"
            code = drug.RadionuclideCodeSequence[0]
            assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == (
                "C-163A8",
                "SRT",
                "^99m^Technetium",
            )
            assert ds.EnergyWindowInformationSequence[0].EnergyWindowRangeSequence[0].EnergyWindowLowerLimit
        assert b"799.2" in next(iter(planted_study_files(list(_nm(phase))).values()))


def test_delayed_phase_is_whole_body_anterior_posterior_and_a_pelvic_spot_view():
    whole_body, spot = _nm("delayed")
    assert whole_body.ImageType[2] == "WHOLE BODY" and spot.ImageType[2] == "STATIC"
    assert whole_body.pixel_array.shape == (2, 1024, 256)
    assert list(whole_body.DetectorVector) == [1, 2]
    views = [item.ViewCodeSequence[0].CodeMeaning for item in whole_body.DetectorInformationSequence]
    assert views == ["Anterior projection", "Posterior projection"]
    assert spot.pixel_array.shape == (256, 256)
    assert whole_body.SeriesInstanceUID != spot.SeriesInstanceUID


def test_bone_scan_phases_share_one_study_on_one_day_and_a_later_offset_is_a_new_study():
    datasets = [ds for phase in synthetic.SCAN_PHASES for ds in _nm(phase)]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert {ds.StudyDate for ds in datasets} == {PLANTED["StudyDate"]}
    assert len({ds.SeriesInstanceUID for ds in datasets}) == len(datasets)
    times = [float(ds.AcquisitionTime) for ds in datasets]
    assert times == sorted(times)
    later = _nm("blood_pool", day_offset=14)[0]
    assert later.StudyDate == "20240116"
    assert later.StudyInstanceUID != datasets[0].StudyInstanceUID


def test_hip_uptake_grows_with_activity_on_the_delayed_spot_view():
    def hip_fraction(activity: int) -> float:
        spot = _nm("delayed", activity=activity)[1]
        counts = spot.pixel_array.astype(np.float64)
        cols = float(spot.PixelSpacing[1]) * (np.arange(256) - 127.5)
        hips = np.abs(cols) > 100  # lateral to the acetabula, where the new bone lies
        return counts[:, hips].sum() / counts.sum()

    assert hip_fraction(3) > 1.2 * hip_fraction(0)


# --------------------------------------------------------------------------
# options


@pytest.mark.parametrize(
    ("call", "options"),
    [
        (ct_pelvis, {"severity": 4}),
        (ct_pelvis, {"slices": 1}),
        (mr_pelvis, {"sequence": "T2"}),
        (pelvis_radiograph, {"monochrome1": "yes"}),
        (bone_scan, {"phase": "spect"}),
        (bone_scan, {"phase": "flow", "activity": -1}),
        (bone_scan, {"phase": "flow", "day_offset": -3}),
    ],
)
def test_invalid_options_raise(call, options):
    with pytest.raises(SyntheticError):
        call(patient=PATIENT, **options)


def test_patient_is_validated():
    with pytest.raises(SyntheticError):
        Patient(age="42")
    with pytest.raises(SyntheticError):
        Patient(study_date="2024-01-02")
    assert Patient(age="023Y", sex="F").sex == "F"
