"""Tests for cases.imaging.deidentify: PS3.15 Annex E profile, options, UIDs, dates and the attribute table."""

import logging
import re
import warnings
from collections import Counter
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pydicom
import pydicom.data
import pydicom.examples
import pytest
from dicomanonymizer.dicom_anonymization_databases import dicomfields_2024b
from pydicom import dcmread
from pydicom.datadict import dictionary_has_tag, dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from cases.imaging import deidentify as deidentify_module
from cases.imaging.deidentify import (
    CaseKeys,
    DeidentificationError,
    attribute_table,
    deidentify,
    new_uid,
    shift_date,
)

KEYS = CaseKeys(uid_secret=b"case-one-secret-0123456789abcdef", date_offset_days=-1000)
OTHER_KEYS = CaseKeys(uid_secret=b"case-two-secret-0123456789abcdef", date_offset_days=-400)

MRN = "12345678"
STUDY_UID = f"1.2.3.{MRN}.1"
SERIES_UID = f"1.2.3.{MRN}.2"
FRAME_UID = f"1.2.3.{MRN}.3"
SOP_UID = f"1.2.3.{MRN}.4"
IMAGE_REF_UID = f"1.2.3.{MRN}.9"
UNKNOWN_PUBLIC_TAG = 0x00060010

#: Every identifying string put into the PHI data set below.
PHI = (
    "Doe^Jane",
    MRN,
    "19800101",
    "OTHER-98765",
    "St Mary",
    "1 Main Street",
    "House^Gregory",
    "Smith^Operator",
    "ACC-2020-0315",
    "STUDY4242",
    "PRIVATE-DOE",
    "NESTED-PRIVATE",
    "Strange^Stephen",
    "Evaluator^Eve",
    "OVERLAY-DOE",
    "CURVE-DOE",
    "UNKNOWN-DOE",
    "ICON-DOE",
    "PREAMBLE-DOE",
    "R/O HO",
    "CT PELVIS DOE",
    "HIP PROTOCOL",
    "Hip pain Doe",
    "called Dr Who",
    "20200315",
    "20200316",
    "20200320",
    "ACME_PACS_7",
    "STMARYS_PACS",
)


def _item(**keywords) -> Dataset:
    item = Dataset()
    for keyword, value in keywords.items():
        setattr(item, keyword, value)
    return item


def make_phi_dataset(*, sop_uid: str = SOP_UID) -> FileDataset:
    """Return a small CT image loaded with PHI in many places, nested ones included."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.FrameOfReferenceUID = FRAME_UID
    ds.Modality = "CT"
    ds.BurnedInAnnotation = "NO"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = MRN
    ds.PatientBirthDate = "19800101"
    ds.PatientBirthTime = "083000"
    ds.PatientAge = "040Y"
    ds.PatientSex = "F"
    ds.PatientSize = "1.65"
    ds.PatientWeight = "60"
    ds.PregnancyStatus = 4
    ds.OtherPatientIDsSequence = [_item(PatientID="OTHER-98765", IssuerOfPatientID="St Mary's")]
    ds.InstitutionName = "St Mary's Hospital"
    ds.InstitutionAddress = "1 Main Street, Springfield"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.OperatorsName = "Smith^Operator"
    ds.AccessionNumber = "ACC-2020-0315"
    ds.StudyID = "STUDY4242"
    ds.StudyDescription = "CT PELVIS DOE"
    ds.SeriesDescription = "R/O HO"
    ds.ProtocolName = "HIP PROTOCOL"
    ds.ImageComments = "called Dr Who"
    ds.StudyDate = "20200315"
    ds.StudyTime = "101500"
    ds.SeriesDate = "20200315"
    ds.SeriesTime = "101510"
    ds.ContentDate = "20200316"
    ds.AcquisitionDateTime = "20200315101530.123456+0100"
    ds.add_new(UNKNOWN_PUBLIC_TAG, "LO", "UNKNOWN-DOE")
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x01, "LO", "PRIVATE-DOE")

    ds.RequestAttributesSequence = [  # X in Table E.1-1: goes whole
        _item(AccessionNumber="ACC-2020-0315", ScheduledPerformingPhysicianName="Strange^Stephen")
    ]
    code = _item(CodeValue="HIP", CodingSchemeDesignator="99LOCAL", CodeMeaning="Hip", EvaluatorName="Evaluator^Eve")
    request = _item(  # kept: its contents are cleaned one by one
        AccessionNumber="ACC-2020-0315",
        StudyInstanceUID=STUDY_UID,
        RequestedProcedureDescription="Hip pain Doe",
        PlacerOrderNumberImagingServiceRequest="STUDY4242",
        RequestedProcedureCodeSequence=[code],
    )
    request.private_block(0x0011, "ACME NESTED", create=True).add_new(0x01, "LO", "NESTED-PRIVATE")
    ds.ReferencedRequestSequence = [request]
    frame = _item(FrameContentSequence=[_item(FrameAcquisitionDateTime="20200320101500", FrameAcquisitionNumber=1)])
    ds.PerFrameFunctionalGroupsSequence = [frame]
    ds.ReferencedSeriesSequence = [
        _item(
            SeriesInstanceUID=SERIES_UID,
            ReferencedInstanceSequence=[_item(ReferencedSOPClassUID=CTImageStorage, ReferencedSOPInstanceUID=sop_uid)],
        )
    ]
    ds.ReferencedImageSequence = [_item(ReferencedSOPClassUID=CTImageStorage, ReferencedSOPInstanceUID=IMAGE_REF_UID)]
    ds.IconImageSequence = [_item(ImageComments="ICON-DOE", Rows=1, Columns=1)]

    ds.add_new(0x60000010, "US", 4)  # Overlay Rows
    ds.add_new(0x60000011, "US", 4)  # Overlay Columns
    ds.add_new(0x60000022, "LO", "OVERLAY-DOE")  # Overlay Description
    ds.add_new(0x60003000, "OW", b"\x00\x00")  # Overlay Data
    ds.add_new(0x50000005, "US", 1)  # Curve Dimensions
    ds.add_new(0x50002500, "LO", "CURVE-DOE")  # Curve Label

    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes(32)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    meta.ImplementationVersionName = "ACME_PACS_7"
    meta.SourceApplicationEntityTitle = "STMARYS_PACS"
    preamble = b"PREAMBLE-DOE".ljust(128, b"\x00")
    return FileDataset(BytesIO(), ds, preamble=preamble, file_meta=meta)


def saved_bytes(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format="TransferSyntaxUID" in getattr(ds, "file_meta", {}))
    return buffer.getvalue()


def shifted(value: str, days: int = KEYS.date_offset_days) -> str:
    return f"{date(int(value[:4]), int(value[4:6]), int(value[6:8])) + timedelta(days=days):%Y%m%d}"


@pytest.fixture
def result():
    return deidentify(make_phi_dataset(), keys=KEYS)


def test_no_phi_left_in_the_dataset_or_its_bytes(result):
    text, data = str(result.dataset), saved_bytes(result.dataset)
    leaks = [phi for phi in PHI if phi in text or phi.encode() in data]
    assert leaks == []


def test_saved_file_reads_back(result):
    again = dcmread(BytesIO(saved_bytes(result.dataset)))
    assert again.SOPInstanceUID == result.dataset.SOPInstanceUID
    assert again.PatientIdentityRemoved == "YES"


def test_no_private_tags_at_any_depth(result):
    assert [elem.tag for elem in result.dataset.iterall() if elem.tag.is_private] == []


def test_overlay_curve_and_unknown_groups_removed(result):
    groups = {elem.tag.group for elem in result.dataset.iterall()}
    assert not {g for g in groups if 0x5000 <= g <= 0x50FF or 0x6000 <= g <= 0x60FF}
    assert UNKNOWN_PUBLIC_TAG not in result.dataset


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("PatientAge", "040Y"), ("PatientSex", "F"), ("PatientSize", 1.65), ("PatientWeight", 60), ("PregnancyStatus", 4)],
)
def test_patient_characteristics_kept(result, keyword, value):
    assert result.dataset[keyword].value == value


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        ("StudyDate", shifted("20200315")),
        ("SeriesDate", shifted("20200315")),
        ("ContentDate", shifted("20200316")),
        ("AcquisitionDateTime", shifted("20200315") + "101530.123456+0100"),
    ],
)
def test_dates_shifted_by_exactly_the_offset(result, keyword, expected):
    assert result.dataset[keyword].value == expected


def test_nested_dates_shifted_and_interval_preserved(result):
    frame = result.dataset.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0]
    assert frame.FrameAcquisitionDateTime == shifted("20200320") + "101500"
    study = result.dataset.StudyDate
    nested = frame.FrameAcquisitionDateTime
    as_date = [date(int(value[:4]), int(value[4:6]), int(value[6:8])) for value in (study, nested)]
    assert as_date[1] - as_date[0] == timedelta(days=5)


def test_times_kept(result):
    assert (result.dataset.StudyTime, result.dataset.SeriesTime) == ("101500", "101510")


def test_birth_date_and_time_removed(result):
    assert "PatientBirthDate" not in result.dataset
    assert "PatientBirthTime" not in result.dataset


def test_longitudinal_temporal_information_marked_modified(result):
    assert result.dataset.LongitudinalTemporalInformationModified == "MODIFIED"


@pytest.mark.parametrize(
    ("keyword", "original"),
    [
        ("StudyInstanceUID", STUDY_UID),
        ("SeriesInstanceUID", SERIES_UID),
        ("SOPInstanceUID", SOP_UID),
        ("FrameOfReferenceUID", FRAME_UID),
    ],
)
def test_uids_replaced_with_the_case_mapping(result, keyword, original):
    value = result.dataset[keyword].value
    assert value == new_uid(original, keys=KEYS)
    assert value.startswith("2.25.")
    assert MRN not in value


def test_sop_class_uid_kept(result):
    assert result.dataset.SOPClassUID == CTImageStorage


def test_nested_references_follow_the_same_mapping(result):
    series = result.dataset.ReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == result.dataset.SeriesInstanceUID
    assert series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == result.dataset.SOPInstanceUID
    assert series.ReferencedInstanceSequence[0].ReferencedSOPClassUID == CTImageStorage


def test_x_z_u_star_sequences_and_icon_removed(result):
    assert "ReferencedImageSequence" not in result.dataset
    assert "IconImageSequence" not in result.dataset


def test_same_uid_maps_the_same_within_a_case_and_differently_across_cases():
    first = deidentify(make_phi_dataset(sop_uid=SOP_UID), keys=KEYS).dataset
    second = deidentify(make_phi_dataset(sop_uid=f"1.2.3.{MRN}.5"), keys=KEYS).dataset
    other_case = deidentify(make_phi_dataset(sop_uid=SOP_UID), keys=OTHER_KEYS).dataset
    assert first.StudyInstanceUID == second.StudyInstanceUID
    assert first.FrameOfReferenceUID == second.FrameOfReferenceUID
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert other_case.StudyInstanceUID != first.StudyInstanceUID
    assert other_case.SOPInstanceUID != first.SOPInstanceUID


def test_media_storage_sop_instance_uid_matches_sop_instance_uid(result):
    assert result.dataset.file_meta.MediaStorageSOPInstanceUID == result.dataset.SOPInstanceUID
    assert result.dataset.file_meta.MediaStorageSOPInstanceUID != SOP_UID


def test_file_meta_identifiers_removed(result):
    meta = result.dataset.file_meta
    assert "ImplementationVersionName" not in meta
    assert "SourceApplicationEntityTitle" not in meta
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian


def test_preamble_zeroed(result):
    assert result.dataset.preamble == bytes(128)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("SeriesDescription", "R/O HO"),
        ("StudyDescription", "CT PELVIS DOE"),
        ("ProtocolName", "HIP PROTOCOL"),
        ("ImageComments", "called Dr Who"),
        ("RequestedProcedureDescription", "Hip pain Doe"),
    ],
)
def test_descriptors_held_for_review_and_removed(result, keyword, value):
    assert result.held_descriptors[keyword] == value
    assert all(elem.keyword != keyword for elem in result.dataset.iterall())


def test_held_descriptors_are_only_non_empty_values_of_surviving_elements(result):
    assert "ICON-DOE" not in result.held_descriptors.values()
    ds = make_phi_dataset()
    ds.AcquisitionComments = ""
    assert "AcquisitionComments" not in deidentify(ds, keys=KEYS).held_descriptors


def test_top_level_descriptor_wins_over_a_nested_one():
    ds = make_phi_dataset()
    ds.RequestedProcedureDescription = "TOP LEVEL"
    assert deidentify(ds, keys=KEYS).held_descriptors["RequestedProcedureDescription"] == "TOP LEVEL"


def test_patient_name_and_id_empty(result):
    assert (result.dataset.PatientName, result.dataset.PatientID) == ("", "")


def test_deidentification_marks(result):
    ds = result.dataset
    assert ds.PatientIdentityRemoved == "YES"
    assert list(ds.DeidentificationMethod) == [
        "PS3.15 Basic Application Level Confidentiality Profile",
        "Retain Patient Characteristics",
        "Retain Longitudinal Temporal Information with Modified Dates",
        "Clean Descriptors",
    ]
    codes = [(c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning) for c in ds.DeidentificationMethodCodeSequence]
    assert codes == [
        ("113100", "DCM", "Basic Application Confidentiality Profile"),
        ("113108", "DCM", "Retain Patient Characteristics Option"),
        ("113107", "DCM", "Retain Longitudinal Temporal Information Modified Dates Option"),
        ("113105", "DCM", "Clean Descriptors Option"),
    ]


def test_actions_counted(result):
    assert result.actions["X private"] == 4  # two creators, two values
    assert result.actions["X overlay"] == 4
    assert result.actions["X curve"] == 2
    assert result.actions["X person name"] == 1  # Evaluator's Name, outside Table E.1-1
    assert result.actions["X unknown"] == 1
    assert result.actions["held"] == 5
    assert result.actions["shift"] == 5


def test_malformed_date_emptied_and_counted():
    ds = make_phi_dataset()
    with pytest.warns(UserWarning, match="VR DA"):
        ds.add_new(0x00080020, "DA", "2020-03-15")  # ACR-NEMA style: not a DICOM DA
    out = deidentify(ds, keys=KEYS)
    assert out.dataset.StudyDate == ""
    assert out.actions["malformed date"] == 1


def test_nested_items_cleaned_one_by_one(result):
    request = result.dataset.ReferencedRequestSequence[0]
    assert request.AccessionNumber == ""
    assert request.PlacerOrderNumberImagingServiceRequest == ""
    assert request.StudyInstanceUID == result.dataset.StudyInstanceUID
    assert "RequestedProcedureDescription" not in request
    code = request.RequestedProcedureCodeSequence[0]
    assert "EvaluatorName" not in code  # a person name outside Table E.1-1
    assert code.CodeValue == "HIP"


def test_x_sequences_removed_whole(result):
    assert "RequestAttributesSequence" not in result.dataset


INVALID_PHI = (f"1.2.3.{MRN}.01", "2020-03-16")


def _invalid_value_bytes() -> bytes:
    ds = make_phi_dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns, quoting the values, as they are set
        ds.StudyInstanceUID = INVALID_PHI[0]  # a leading zero is not allowed in a UID component
        ds.ContentDate = INVALID_PHI[1]  # not a DICOM DA
        return saved_bytes(ds)


def test_pydicom_quotes_invalid_values_when_parsing_them(caplog):
    """The precondition of the next test: left alone, pydicom puts these values in warnings and logs."""
    data = _invalid_value_bytes()
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        str(dcmread(BytesIO(data)))
    said = caplog.text + " ".join(str(warning.message) for warning in caught)
    assert INVALID_PHI[0] in said


def test_invalid_values_do_not_reach_warnings_or_logs(caplog):
    data = _invalid_value_bytes()
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = deidentify(dcmread(BytesIO(data)), keys=KEYS)
    said = caplog.text + " ".join(str(warning.message) for warning in caught)
    assert [phi for phi in (*PHI, *INVALID_PHI) if phi in said] == []
    assert pydicom.config.settings.reading_validation_mode == pydicom.config.WARN
    assert out.actions["malformed date"] == 1


def test_errors_name_the_tag_never_the_value(monkeypatch):
    def boom(value, vr, *, days):
        raise RuntimeError(f"cannot parse {value}")

    monkeypatch.setattr(deidentify_module, "shift_date", boom)
    with pytest.raises(DeidentificationError) as caught:
        deidentify(make_phi_dataset(), keys=KEYS)
    message = str(caught.value)
    assert "(0008,0020)" in message or "(0008,002A)" in message
    assert "2020" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --- every row of the attribute table does what it says -------------------------------------------------------

_SAMPLES = {
    "AE": "SECRETAE",
    "AS": "045Y",
    "AT": 0x00100020,
    "CS": "SECRET",
    "DA": "20200315",
    "DS": "12.5",
    "DT": "20200315101500",
    "FD": 1.5,
    "FL": 1.5,
    "IS": "7",
    "LO": "SECRET LO",
    "LT": "SECRET LT",
    "OB": b"SECRETOB",
    "OW": b"SECRETOW",
    "PN": "Secret^Person",
    "SH": "SECRET SH",
    "SL": 5,
    "SQ": [_item(CodeValue="SECRETCODE")],
    "SS": 5,
    "ST": "SECRET ST",
    "TM": "101500",
    "UC": "SECRET UC",
    "UI": "1.2.3.98765.1",
    "UL": 5,
    "UN": b"SECRETUN",
    "UR": "http://secret.example/",
    "US": 5,
    "UT": "SECRET UT",
}
_EXACT_ROWS = [row for row in attribute_table() if row.basic and re.fullmatch(r"\([0-9A-F]{4},[0-9A-F]{4}\)", row.tag)]


@pytest.mark.parametrize("row", _EXACT_ROWS, ids=lambda row: f"{row.tag}-{row.action}")
def test_table_row_matches_behaviour(row):
    tag = int(row.tag[1:5] + row.tag[6:10], 16)
    vr = row.vr.split(" or ")[0]
    sample = _SAMPLES[vr]
    ds = Dataset()
    ds.add_new(tag, vr, sample)
    out = deidentify(ds, keys=KEYS)
    elem = out.dataset.get(tag) if row.keyword not in ("PatientName", "PatientID") else None
    if row.action == "X":
        assert tag not in out.dataset
    elif row.action == "Z":
        assert row.keyword in ("PatientName", "PatientID") or elem.is_empty
    elif row.action == "D":
        assert elem.is_empty or elem.value != sample
    elif row.action == "U":
        assert elem.value == new_uid(sample, keys=KEYS)
    elif row.action == "shift":
        assert elem.value == shift_date(sample, vr, days=KEYS.date_offset_days) != sample
    elif row.action == "K":
        assert elem.value == sample
    elif row.action == "held":
        assert elem is None or elem.is_empty
        assert out.held_descriptors[row.keyword] == sample
    else:
        pytest.fail(f"unexpected action {row.action}")


_ABSENT = object()


@pytest.mark.parametrize(
    ("tag", "vr", "value", "expected"),
    [
        (0x00080000, "UL", 10, _ABSENT),  # group length
        (UNKNOWN_PUBLIC_TAG, "LO", "UNKNOWN-DOE", _ABSENT),
        (0x00020013, "SH", "ACME_PACS_7", _ABSENT),  # a File Meta element in the data set itself
        (0x00041500, "CS", ["PATIENT01", "STUDY01"], _ABSENT),  # Referenced File ID
        (0x00140104, "PN", "Secondary^Reviewer", _ABSENT),  # a person name outside the table
        (0x00141020, "DA", "20200315", shifted("20200315")),  # a date outside the table
        (0x00200242, "UI", SOP_UID, new_uid(SOP_UID, keys=KEYS)),  # an instance UID outside the table
        (0x0008010C, "UI", f"1.2.3.{MRN}.7", f"1.2.3.{MRN}.7"),  # Coding Scheme UID names a code system
        (0x00081155, "UI", "1.2.840.10008.1.5.1", "1.2.840.10008.1.5.1"),  # a well-known palette
        (0x00180015, "CS", "PELVIS", "PELVIS"),  # Body Part Examined: not in the table, kept
    ],
)
def test_rules_beyond_the_table(tag, vr, value, expected):
    ds = Dataset()
    ds.add_new(tag, vr, value)
    out = deidentify(ds, keys=KEYS).dataset
    if expected is _ABSENT:
        assert tag not in out
    else:
        assert out[tag].value == expected


def test_attribute_table_covers_every_tag_of_the_2024b_lists():
    rows = attribute_table()
    listed = [
        entry
        for name in ("D", "Z", "X", "U", "Z_D", "X_Z", "X_D", "X_Z_D", "X_Z_U_STAR")
        for entry in getattr(dicomfields_2024b, f"{name}_TAGS")
    ]
    table_tags = {row.tag for row in rows if row.basic}
    missing = []
    for entry in listed:
        digits = f"{entry[0]:04X}{entry[1]:04X}"
        if len(entry) == 4:
            mask = f"{entry[2]:04X}{entry[3]:04X}"
            digits = "".join("x" if m == "0" else d for d, m in zip(digits, mask, strict=True))
        if f"({digits[:4]},{digits[4:]})" not in table_tags:
            missing.append(entry)
    assert missing == []
    assert len(rows) >= 600
    assert len([row for row in rows if row.basic]) == len(listed)


def test_attribute_table_explains_options():
    by_keyword = {row.keyword: row for row in attribute_table() if row.keyword}
    assert by_keyword["PatientAge"].action == "K"
    assert "Retain Patient Characteristics" in by_keyword["PatientAge"].reason
    assert by_keyword["StudyDate"].action == "shift"
    assert by_keyword["SeriesDescription"].action == "held"
    assert by_keyword["StudyInstanceUID"].action == "U"
    assert by_keyword["PatientBirthDate"].action == "X"


# --- real files --------------------------------------------------------------------------------------------------

CHARSET_DIR = Path(pydicom.data.__file__).parent / "charset_files"  # bundled in the wheel
CHARSET_FILES = sorted(path.name for path in CHARSET_DIR.glob("*.dcm"))


def test_charset_files_found():
    assert len(CHARSET_FILES) >= 9


def _raw_person_names(ds: Dataset) -> list[bytes]:
    """Return the undecoded bytes of every person name in `ds`, at any depth, as they are in the file."""
    names = []
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        vr = raw.VR or dictionary_VR(tag)
        if vr == "PN" and isinstance(raw.value, bytes) and raw.value:
            names.append(raw.value)
        elif vr == "SQ":
            for item in ds[tag].value:
                names.extend(_raw_person_names(item))
    return names


@pytest.mark.parametrize("name", CHARSET_FILES)
def test_names_in_every_script_vanish(name):
    path = CHARSET_DIR / name  # get_testdata_file only looks in test_files; this folder is local too
    raw_names = _raw_person_names(dcmread(path))
    names = [str(elem.value) for elem in dcmread(path).iterall() if elem.VR == "PN" and elem.value]
    out = deidentify(dcmread(path), keys=KEYS)
    data = saved_bytes(out.dataset)
    parts = {part for raw in raw_names for part in re.split(rb"[=^]", raw) if len(part) >= 4}
    assert raw_names and names
    assert [raw for raw in raw_names if raw in data] == []
    assert [part for part in parts if part in data] == []
    assert [name for name in names if name in str(out.dataset)] == []
    assert out.dataset.PatientName == ""


#: Every image and RT example pydicom bundles ("no_meta" is junk read with force=True; the DICOMDIR is tested below).
EXAMPLES = (
    "ct",
    "jpeg2k",
    "mr",
    "overlay",
    "palette_color",
    "rgb_color",
    "rt_dose",
    "rt_plan",
    "rt_ss",
    "waveform",
    "ybr_color",
)


@pytest.mark.parametrize("name", EXAMPLES)
def test_pydicom_examples_deidentify(name):
    original = getattr(pydicom.examples, name)
    out = deidentify(getattr(pydicom.examples, name), keys=KEYS)
    ds = out.dataset
    assert ds.PatientName == ""
    assert [elem.tag for elem in ds.iterall() if elem.tag.is_private] == []
    assert ds.SOPInstanceUID == new_uid(original.SOPInstanceUID, keys=KEYS)
    patient_id = str(original.get("PatientID", "") or "")
    if len(patient_id) >= 4:
        assert patient_id.encode() not in saved_bytes(ds)


def test_dicomdir_patient_ids_and_folder_names_vanish():
    original = pydicom.examples.dicomdir
    ids = {str(elem.value) for elem in original.iterall() if elem.keyword == "PatientID" and elem.value}
    out = deidentify(pydicom.examples.dicomdir, keys=KEYS)
    assert ids
    assert [value for value in ids if value.encode() in saved_bytes(out.dataset)] == []
    assert [elem for elem in out.dataset.iterall() if elem.keyword == "ReferencedFileID"] == []


# --- burned-in text ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"Modality": "US"}, True),
        ({"Modality": "US", "BurnedInAnnotation": ""}, True),
        ({"Modality": "OT"}, True),
        ({"Modality": "XC"}, True),
        ({"Modality": "CT", "BurnedInAnnotation": "NO"}, False),
        ({"Modality": "CT", "BurnedInAnnotation": "YES"}, True),
        ({"Modality": "CT"}, False),
        ({"Modality": "CT", "SOPClassUID": SecondaryCaptureImageStorage}, True),
        ({"Modality": "CT", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.7.4"}, True),  # multi-frame true colour SC
        ({"Modality": "XC", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.77.1.4"}, True),
        ({"Modality": "SM", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.77.1.6"}, True),  # whole-slide microscopy
        ({"Modality": "CR", "ConversionType": "DF"}, True),
        ({"Modality": "US", "BurnedInAnnotation": "NO"}, True),  # machines write NO over burned-in names
        ({"Modality": "XA", "BurnedInAnnotation": "NO"}, True),
        ({"Modality": "RF"}, True),
        ({"Modality": "OP"}, True),
        ({"Modality": "GM"}, True),
        ({"Modality": "ES"}, True),
        ({"Modality": "OT", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.77.1.4"}, True),  # VL Photographic
        ({"Modality": "OT", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.6.1"}, True),  # Ultrasound Image Storage
        ({"Modality": "CT", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "ImageType": "DERIVED\\SECONDARY"}, True),
        ({"Modality": "CT", "ImageType": "ORIGINAL\\PRIMARY\\SCREEN_SAVE"}, True),
        ({"Modality": "CT", "ImageType": "DERIVED\\SECONDARY\\DOSE_INFO"}, True),
        ({"Modality": "CT", "ImageType": "DERIVED\\PRIMARY\\AXIAL"}, False),  # a reconstruction, not a capture
        ({"Modality": "CT", "ImageType": "ORIGINAL\\PRIMARY\\AXIAL", "BurnedInAnnotation": "NO"}, False),
        ({"Modality": "DX"}, False),  # radiographs: their pixels decide (cases.tests.test_burned_in)
        ({"Modality": "MR", "ImageType": "DERIVED"}, False),
    ],
)
def test_burned_in_risk(attributes, expected):
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    assert deidentify(ds, keys=KEYS).burned_in_risk is expected


# --- shift_date, new_uid, CaseKeys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "vr", "days", "expected"),
    [
        ("20200315", "DA", -1000, "20170619"),
        ("20200301", "DA", -1, "20200229"),  # leap year
        ("20210301", "DA", -1, "20210228"),
        ("20000229", "DA", 366, "20010301"),
        ("19000301", "DA", -1, "19000228"),  # 1900 is not a leap year
        ("20200315 ", "DA", 1, "20200316"),  # padding
        ("", "DA", -5, ""),
        ("20200315101530.123456+0100", "DT", -1, "20200314101530.123456+0100"),
        ("20200315101530.1", "DT", -1, "20200314101530.1"),
        ("20200315101530", "DT", -1, "20200314101530"),
        ("202003151015", "DT", -15, "202002291015"),
        ("2020031510", "DT", 1, "2020031610"),
        ("20200315", "DT", 1, "20200316"),
        ("20200315-0500", "DT", 1, "20200316-0500"),
        ("202003", "DT", -30, "202002"),
        ("2020", "DT", -400, "2019"),
        ("", "DT", -5, ""),
        ("101530.5", "TM", -1000, "101530.5"),
        ("2020-03-15", "DA", 1, ""),
        ("20201301", "DA", 1, ""),
        ("20200230", "DA", 1, ""),
        ("2020031", "DA", 1, ""),
        ("00010101", "DA", -1, ""),
        ("99991231", "DA", 1, ""),
        ("20200315250000", "DT", 1, ""),
        ("20200315106000", "DT", 1, ""),
        ("20200315+2500", "DT", 1, ""),
        ("20200315101530.1234567", "DT", 1, ""),
        ("not a date", "DT", 1, ""),
        ("\u0662\u0660\u0662\u0660\u0660\u0663\u0661\u0665", "DA", 1, ""),  # Arabic-Indic digits
    ],
)
def test_shift_date(value, vr, days, expected):
    assert shift_date(value, vr, days=days) == expected


def test_shift_date_refuses_other_vrs():
    with pytest.raises(DeidentificationError):
        shift_date("20200315", "LO", days=1)


def test_new_uid_is_consistent_valid_and_case_specific():
    uid = new_uid(SOP_UID, keys=KEYS)
    assert uid == new_uid(SOP_UID, keys=KEYS) == new_uid(SOP_UID + "\x00", keys=KEYS)
    assert uid != new_uid(STUDY_UID, keys=KEYS)
    assert uid != new_uid(SOP_UID, keys=OTHER_KEYS)
    assert uid.startswith("2.25.") and len(uid) <= 64 and UID(uid).is_valid
    assert new_uid("", keys=KEYS) == ""


def test_new_uids_do_not_collide_across_many_inputs():
    uids = [new_uid(f"1.2.3.{n}", keys=KEYS) for n in range(5000)]
    assert len(set(uids)) == len(uids)
    assert all(UID(uid).is_valid for uid in uids)


@pytest.mark.parametrize(
    ("secret", "days"),
    [(b"short", -400), ("a string, not bytes!", -400), (b"0123456789abcdef", 0), (b"0123456789abcdef", 1.5)],
)
def test_case_keys_refuse_weak_values(secret, days):
    with pytest.raises(DeidentificationError):
        CaseKeys(uid_secret=secret, date_offset_days=days)


def test_case_keys_repr_hides_the_secret():
    assert "case-one-secret" not in repr(KEYS)


def test_generated_case_keys_are_random_and_in_range():
    keys = [CaseKeys.generate() for _ in range(50)]
    assert all(-3650 <= key.date_offset_days <= -365 for key in keys)
    assert len({key.uid_secret for key in keys}) == 50
    assert len(Counter(key.date_offset_days for key in keys)) > 1


def test_deidentify_requires_case_keys():
    with pytest.raises(DeidentificationError):
        deidentify(make_phi_dataset(), keys=None)


def test_vr_lookup_is_sane():
    """Guard the fixtures: the unknown public tag really is unknown, the PN outside the table really is a PN."""
    assert not dictionary_has_tag(UNKNOWN_PUBLIC_TAG)
    assert dictionary_VR("EvaluatorName") == "PN"
    assert keyword_for_tag(0x00080020) == "StudyDate"
