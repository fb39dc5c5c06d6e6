"""Orientation, NM projection and time after injection read from hand-made headers."""

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from imaging.frame_labels import image_orientation, nm_view, seconds_after_injection


def _view(meaning: str) -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "G-5215", "SRT", meaning
    detector = Dataset()
    detector.ViewCodeSequence = Sequence([code])
    return detector


def _nm(*, injected="092100", acquired="123100", image_type="STATIC") -> Dataset:
    ds = Dataset()
    drug = Dataset()
    drug.RadiopharmaceuticalStartTime = injected
    ds.RadiopharmaceuticalInformationSequence = Sequence([drug])
    ds.AcquisitionTime = acquired
    ds.ImageType = ["ORIGINAL", "PRIMARY", image_type, "EMISSION"]
    return ds


def test_axial_orientation_is_read_as_six_cosines():
    ds = Dataset()
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    assert image_orientation(ds) == [1, 0, 0, 0, 1, 0]


def test_enhanced_objects_give_orientation_per_frame():
    ds = Dataset()
    plane = Dataset()
    plane.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    group = Dataset()
    group.PlaneOrientationSequence = Sequence([plane])
    ds.PerFrameFunctionalGroupsSequence = Sequence([Dataset(), group])
    assert image_orientation(ds, frame_index=1) == [0, 1, 0, 0, 0, -1]


def test_missing_or_broken_orientation_gives_none():
    assert image_orientation(Dataset()) is None
    ds = Dataset()
    ds.ImageOrientationPatient = [0, 0, 0, 0, 1, 0]
    assert image_orientation(ds) is None


def test_each_frame_takes_the_view_of_its_detector():
    ds = Dataset()
    ds.DetectorInformationSequence = Sequence([_view("Anterior projection"), _view("Posterior projection")])
    ds.DetectorVector = [1, 2]
    assert [nm_view(ds, frame_index=index) for index in (0, 1)] == ["ANT", "POST"]


def test_oblique_views_are_not_read_as_anterior():
    ds = Dataset()
    ds.DetectorInformationSequence = Sequence([_view("Left anterior oblique projection")])
    assert nm_view(ds) == "LAO"


def test_no_view_code_gives_no_letters():
    assert nm_view(Dataset()) == ""


def test_delayed_image_three_hours_ten_minutes_after_injection():
    assert seconds_after_injection(_nm()) == 3 * 3600 + 600


def test_dynamic_frames_count_their_predecessors():
    ds = _nm(acquired="092100", image_type="DYNAMIC")
    ds.ActualFrameDuration = 2000
    assert [seconds_after_injection(ds, frame_index=index) for index in (0, 1, 15)] == [0, 2, 30]


def test_an_acquisition_after_midnight_counts_from_the_evening_before():
    assert seconds_after_injection(_nm(injected="235000", acquired="001000")) == 20 * 60


def test_missing_times_give_none():
    ds = _nm()
    del ds.AcquisitionTime
    assert seconds_after_injection(ds) is None
    assert seconds_after_injection(Dataset()) is None
