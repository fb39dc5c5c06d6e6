"""Tests for imaging.group: series, their order, and their labels."""

import math
import random

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from imaging.group import group_series, mr_sequence, nm_phase, orientation_plane, technique

AXIAL = [1, 0, 0, 0, 1, 0]
CORONAL = [1, 0, 0, 0, 0, -1]
SAGITTAL = [0, 1, 0, 0, 0, -1]


def make_image(series_uid: str = "1.2.3.1", **attributes) -> Dataset:
    """Return a 4×4 image dataset; keyword arguments set or override attributes."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "CT"
    ds.StudyDate = "20240105"
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = np.zeros((4, 4), dtype=np.int16).tobytes()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def stack(positions, orientation=AXIAL, **attributes) -> list[Dataset]:
    """Return one image per position, instance numbers in the order given."""
    return [
        make_image(
            ImagePositionPatient=[float(v) for v in position],
            ImageOrientationPatient=orientation,
            InstanceNumber=number,
            **attributes,
        )
        for number, position in enumerate(positions, start=1)
    ]


def only_group(datasets):
    groups = group_series(datasets)
    assert len(groups) == 1
    return groups[0]


def along(group, normal) -> list[float]:
    return [float(np.dot(ds.ImagePositionPatient, normal)) for ds in group.instances]


# --------------------------------------------------------------------------
# spatial order


def test_shuffled_axial_slices_are_ordered_along_the_normal():
    images = stack([(0, 0, z) for z in range(10)])
    random.Random(4).shuffle(images)
    group = only_group(images)
    assert [float(ds.ImagePositionPatient[2]) for ds in group.instances] == [float(z) for z in range(10)]


def test_descending_z_series_is_ordered_by_position_not_instance_number():
    images = stack([(0, 0, 100 - 5 * i) for i in range(6)])  # instance 1 is the highest slice
    group = only_group(images)
    assert [ds.InstanceNumber for ds in group.instances] == [6, 5, 4, 3, 2, 1]


def test_tilted_slices_are_ordered_along_their_own_normal():
    tilt = math.radians(20)  # gantry tilt: column direction tipped out of the axial plane
    orientation = [1, 0, 0, 0, math.cos(tilt), -math.sin(tilt)]
    normal = np.cross(orientation[:3], orientation[3:])
    # slices 3 mm apart along the normal, each shifted in-plane so that z alone would misorder them
    positions = [normal * 3 * k + np.array([0, 40 * ((k * 7) % 5), 0]) for k in range(8)]
    images = stack(positions, orientation=orientation)
    random.Random(1).shuffle(images)

    group = only_group(images)

    steps = along(group, normal)
    assert steps == sorted(steps)
    assert [float(ds.ImagePositionPatient[2]) for ds in group.instances] != sorted(
        float(ds.ImagePositionPatient[2]) for ds in images
    )
    assert group.plane == "axial"  # 20° is a tilted axial, not an oblique


def test_oblique_stack_is_ordered_and_labelled_oblique():
    angle = math.radians(45)
    orientation = [math.cos(angle), math.sin(angle), 0, 0, 0, -1]
    normal = np.cross(orientation[:3], orientation[3:])
    images = stack([normal * 4 * k for k in (3, 0, 2, 1)], orientation=orientation)
    group = only_group(images)
    assert along(group, normal) == sorted(along(group, normal))
    assert group.plane == "oblique"


def test_same_position_falls_back_to_instance_number_then_uid():
    images = [
        make_image(ImagePositionPatient=[0, 0, 0], ImageOrientationPatient=AXIAL, InstanceNumber=2),
        make_image(ImagePositionPatient=[0, 0, 0], ImageOrientationPatient=AXIAL, InstanceNumber=1),
        make_image(ImagePositionPatient=[0, 0, 0], ImageOrientationPatient=AXIAL, InstanceNumber=1),
    ]
    images[1].SOPInstanceUID, images[2].SOPInstanceUID = "1.2.9", "1.2.10"
    group = only_group(images)
    assert [(ds.InstanceNumber, ds.SOPInstanceUID) for ds in group.instances] == [
        (1, "1.2.10"),
        (1, "1.2.9"),
        (2, images[0].SOPInstanceUID),
    ]


def test_images_without_position_are_ordered_by_instance_number():
    images = [make_image(Modality="CR", InstanceNumber=n) for n in (3, 1, 2)]
    assert [ds.InstanceNumber for ds in only_group(images).instances] == [1, 2, 3]


# --------------------------------------------------------------------------
# series


def test_series_are_split_by_uid_and_ordered_by_acquisition_time():
    late = [make_image("1.2.3.7", SeriesNumber=1, SeriesDate="20240105", SeriesTime="143000")]
    early = [
        make_image("1.2.3.8", SeriesNumber=9, SeriesDate="20240105", SeriesTime="091500", InstanceNumber=n)
        for n in (1, 2)
    ]
    groups = group_series([late[0], early[1], early[0]])
    assert [group.series_uid for group in groups] == ["1.2.3.8", "1.2.3.7"]
    assert [len(group.instances) for group in groups] == [2, 1]
    assert groups[0].order_key == ("20240105", "20240105091500", 9)


def test_acquisition_time_stands_in_for_series_time():
    second = make_image("1.2.3.2", SeriesNumber=1, AcquisitionDate="20240105", AcquisitionTime="120000")
    first = make_image("1.2.3.1", SeriesNumber=2, AcquisitionDate="20240105", AcquisitionTime="110000")
    assert [group.series_uid for group in group_series([second, first])] == ["1.2.3.1", "1.2.3.2"]


def test_series_without_times_are_ordered_by_series_number():
    groups = group_series([make_image("1.2.3.5", SeriesNumber=5), make_image("1.2.3.4", SeriesNumber=4)])
    assert [group.order_key[2] for group in groups] == [4, 5]


def test_multi_frame_objects_are_frames_of_one_series():
    cine = [make_image("1.2.3.9", Modality="US", NumberOfFrames=30), make_image("1.2.3.9", Modality="US")]
    group = only_group(cine)
    assert group.frame_count == 31
    assert group.modality == "US"


# --------------------------------------------------------------------------
# plane


@pytest.mark.parametrize(
    ("orientation", "plane"),
    [
        (AXIAL, "axial"),
        (CORONAL, "coronal"),
        (SAGITTAL, "sagittal"),
        ([0, -1, 0, 0, 0, -1], "sagittal"),
        ([1, 0, 0, 0, math.cos(0.3), -math.sin(0.3)], "axial"),  # 17° tilt
        ([1, 0, 0, 0, math.cos(0.7), -math.sin(0.7)], "oblique"),  # 40°
    ],
)
def test_plane_from_orientation(orientation, plane):
    assert orientation_plane(orientation) == plane
    assert only_group([make_image(ImageOrientationPatient=orientation)]).plane == plane


def test_plane_is_empty_without_orientation_or_when_slices_disagree():
    assert only_group([make_image(Modality="DX")]).plane == ""
    scout = [make_image(ImageOrientationPatient=AXIAL), make_image(ImageOrientationPatient=CORONAL)]
    assert only_group(scout).plane == ""


def test_enhanced_object_plane_comes_from_shared_functional_groups():
    orientation = Dataset()
    orientation.ImageOrientationPatient = CORONAL
    shared = Dataset()
    shared.PlaneOrientationSequence = [orientation]
    enhanced = make_image(Modality="MR", NumberOfFrames=20)
    enhanced.SharedFunctionalGroupsSequence = [shared]
    group = only_group([enhanced])
    assert group.plane == "coronal"
    assert group.frame_count == 20


# --------------------------------------------------------------------------
# MR sequence


@pytest.mark.parametrize(
    ("attributes", "label"),
    [
        ({"ScanningSequence": "SE", "RepetitionTime": 500, "EchoTime": 15}, "T1"),
        ({"ScanningSequence": "SE", "RepetitionTime": 4000, "EchoTime": 90}, "T2"),
        ({"ScanningSequence": "SE", "RepetitionTime": 3000, "EchoTime": 30}, "PD"),
        ({"ScanningSequence": ["SE", "IR"], "RepetitionTime": 5000, "EchoTime": 40, "InversionTime": 150}, "STIR"),
        ({"ScanningSequence": ["SE", "IR"], "RepetitionTime": 9000, "EchoTime": 120, "InversionTime": 2500}, "FLAIR"),
        ({"ScanningSequence": ["GR", "IR"], "RepetitionTime": 2300, "EchoTime": 3, "InversionTime": 900}, "T1"),
        (
            {"ScanningSequence": "GR", "SequenceVariant": ["SP", "MP"], "RepetitionTime": 1900, "InversionTime": 1100},
            "T1",
        ),
        ({"ScanningSequence": "GR", "RepetitionTime": 600, "EchoTime": 20}, "GRE"),
        ({"ScanningSequence": "EP", "SequenceName": "*ep_b1000t", "RepetitionTime": 5000, "EchoTime": 80}, "DWI"),
        ({"ScanningSequence": "SE", "RepetitionTime": 1200, "EchoTime": 45}, ""),
        ({}, ""),
    ],
    ids=["T1", "T2", "PD", "STIR", "FLAIR", "MPRAGE", "MP-prepared", "GRE", "DWI", "intermediate", "no-timing"],
)
def test_mr_sequence_labels(attributes, label):
    ds = make_image(Modality="MR", **attributes)
    assert mr_sequence(ds) == label
    assert only_group([ds]).sequence == label


def test_sequence_is_only_for_mr():
    ct = make_image(ScanningSequence="SE", RepetitionTime=500, EchoTime=15)
    assert only_group([ct]).sequence == ""


# --------------------------------------------------------------------------
# technique


def radiopharmaceutical(agent: str = "MDP", dose: float = 799.2, nuclide: str = "^99m^Technetium", start: str = ""):
    item = Dataset()
    if agent:
        item.Radiopharmaceutical = agent
    item.RadionuclideTotalDose = dose
    if start:
        item.RadiopharmaceuticalStartTime = start
    if nuclide:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "C-163A8", "SRT", nuclide
        item.RadionuclideCodeSequence = [code]
    return item


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (radiopharmaceutical(), "21.6 mCi (799 MBq) Tc-99m MDP"),
        (radiopharmaceutical(agent="Tc99m MDP"), "21.6 mCi (799 MBq) Tc99m MDP"),
        (radiopharmaceutical(agent="MDP", nuclide=""), "21.6 mCi (799 MBq) MDP"),
        (radiopharmaceutical(agent="FDG", dose=370_000_000, nuclide="^18^Fluorine"), "10.0 mCi (370 MBq) F-18 FDG"),
        (radiopharmaceutical(agent="NaI", dose=7.4, nuclide="^123^Iodine"), "0.2 mCi (7.4 MBq) I-123 NaI"),
    ],
    ids=["MBq", "agent-names-nuclide", "no-nuclide-code", "PET-in-Bq", "small-dose"],
)
def test_nm_technique_from_radiopharmaceutical(item, expected):
    ds = make_image(Modality="NM", RadiopharmaceuticalInformationSequence=[item])
    assert technique(ds) == expected
    assert only_group([ds]).technique == expected


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"Modality": "CT", "KVP": "120"}, "120 kVp"),
        ({"Modality": "DX", "KVP": "77.5"}, "77.5 kVp"),
        ({"Modality": "MR", "RepetitionTime": "500", "EchoTime": "15"}, "TR 500 ms, TE 15 ms"),
        (
            {"Modality": "MR", "RepetitionTime": 5000, "EchoTime": 2.5, "InversionTime": 150},
            "TR 5000 ms, TE 2.5 ms, TI 150 ms",
        ),
        ({"Modality": "US"}, ""),
        ({"Modality": "NM"}, ""),
    ],
)
def test_technique_by_modality(attributes, expected):
    assert technique(make_image(**attributes)) == expected


# --------------------------------------------------------------------------
# nuclear medicine phase


def nm_image(series_uid: str, time: str, **attributes) -> Dataset:
    return make_image(series_uid, Modality="NM", SeriesDate="20240105", SeriesTime=time, **attributes)


def test_dynamic_acquisition_of_short_frames_is_the_flow_phase():
    flow = nm_image("1.2.3.1", "100000", NumberOfFrames=60, ActualFrameDuration=1000)
    assert nm_phase(flow) == "flow"
    slow = nm_image("1.2.3.1", "100000", NumberOfFrames=60, ActualFrameDuration=60_000)
    assert nm_phase(slow) == ""


@pytest.mark.parametrize(("acquired", "phase"), [("101000", "blood_pool"), ("130000", "delayed"), ("103000", "")])
def test_phase_from_time_after_injection(acquired, phase):
    ds = nm_image(
        "1.2.3.1",
        acquired,
        AcquisitionTime=acquired,
        RadiopharmaceuticalInformationSequence=[radiopharmaceutical(start="100000")],
    )
    assert nm_phase(ds) == phase


def test_three_phase_bone_scan_phases_from_study_timing():
    """Without an injection time, series are placed relative to the flow series of their study."""
    flow = nm_image("1.2.3.1", "100000", NumberOfFrames=60, ActualFrameDuration=2000, SeriesNumber=1)
    pool = nm_image("1.2.3.2", "100500", SeriesNumber=2)
    delayed = nm_image("1.2.3.3", "131500", SeriesNumber=3)
    unsure = nm_image("1.2.3.4", "104000", SeriesNumber=4)

    groups = group_series([delayed, unsure, pool, flow])

    assert [(group.series_uid, group.phase) for group in groups] == [
        ("1.2.3.1", "flow"),
        ("1.2.3.2", "blood_pool"),
        ("1.2.3.4", ""),
        ("1.2.3.3", "delayed"),
    ]


def test_phase_is_empty_when_unsure():
    assert only_group([nm_image("1.2.3.1", "100000")]).phase == ""
    assert only_group([make_image(NumberOfFrames=60, ActualFrameDuration=1000)]).phase == ""  # not NM


# --------------------------------------------------------------------------
# description


def test_description_is_returned_but_never_used_as_a_label():
    description = "SMITH JOHN 4711 osteosarcoma T2 FLAIR axial STIR flow"
    ds = make_image(
        Modality="MR",
        SeriesDescription=description,
        ProtocolName=description,
        ScanningSequence="SE",
        RepetitionTime=500,
        EchoTime=15,
        ImageOrientationPatient=CORONAL,
        BodyPartExamined="KNEE",
    )

    group = only_group([ds])

    assert group.description == description
    assert (group.sequence, group.plane, group.phase) == ("T1", "coronal", "")
    labels = " ".join([group.modality, group.body_part, group.plane, group.sequence, group.phase, group.technique])
    for word in description.split():
        assert word.lower() not in labels.lower().split()
