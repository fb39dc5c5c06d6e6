"""Importing the formats real archives contain (issue 13 §5), end to end through import_study."""

import io

import pydicom
import pytest
from django.core.management import call_command

from cases.models import Series
from cases.tests.factories import make_case
from imaging.tests.corpus import formats


@pytest.fixture
def case(db, faculty):
    return make_case(authors=[faculty], status="draft")


def run_import(case, *paths) -> tuple[str, int]:
    """Return what import_study printed and its exit code (1 when a file was refused)."""
    out = io.StringIO()
    try:
        call_command("import_study", *map(str, paths), case=case.number, stdout=out)
    except SystemExit as exit_info:
        return out.getvalue(), int(exit_info.code)
    return out.getvalue(), 0


def test_12_bit_lossy_jpeg_imports_with_and_without_the_scan_header_quirk(case, tmp_path):
    paths = formats.make_jpeg_extended_12bit(tmp_path / "jpeg")
    out, code = run_import(case, tmp_path / "jpeg")
    assert code == 0 and "3 files: 3 imported, 0 already imported, 0 duplicate, 0 refused, 0 not rendered." in out
    series = Series.objects.get(case=case)
    assert series.images.count() == len(paths)


def test_siemens_mosaics_import_as_stacks_of_slices_at_their_positions(case, tmp_path):
    formats.make_siemens_mosaic(tmp_path / "mosaic")
    assert run_import(case, tmp_path / "mosaic")[1] == 0
    stages = {series.sequence: series for series in Series.objects.filter(case=case)}
    assert set(stages) == {"EPI", "DWI", "EPI mosaic"}
    expected = sorted(float(position[2]) for position in formats.mosaic_truth((0.0, 0.0, 1.0)))
    for label in ("EPI", "DWI"):
        images = list(stages[label].images.order_by("order"))
        assert [image.frame_number for image in images] == [1, 2, 3, 4, 5, 6]
        assert (images[0].width, images[0].height) == (32, 32)
        assert [image.slice_position_mm for image in images] == pytest.approx(
            expected if label == "EPI" else sorted(-4.5 * index - 10 for index in range(6))
        )
    whole = stages["EPI mosaic"].images.get()
    assert (whole.width, whole.height) == (96, 96)
    stored = pydicom.dcmread(stages["EPI"].images.first().dicom_file.path)
    assert not any(element.tag.is_private for element in stored), "the CSA header went with the private attributes"


def test_parametric_maps_import_and_segmentations_are_refused_with_their_reason(case, tmp_path):
    maps = formats.make_parametric_maps(tmp_path / "upload")
    segmentations = formats.make_segmentations(tmp_path / "upload")
    out, code = run_import(case, tmp_path / "upload")
    assert code == 1
    counts = f"{len(maps)} imported, 0 already imported, 0 duplicate, {len(segmentations)} refused, 0 not rendered."
    assert counts in out
    assert out.count("segmentation object (a mask drawn on other images") == len(segmentations)
    assert f"{len(segmentations)} files were not images ({len(segmentations)} × a segmentation (a mask" in out
    stages = Series.objects.filter(case=case)
    assert [stage.sequence for stage in stages] == ["parametric map"] * len(maps)
    for stage in stages:
        images = list(stage.images.order_by("order"))
        assert [image.slice_position_mm for image in images] == [0.0, 5.0]
        assert all(0 < image.window_width < 0.01 for image in images), "windowed from the map's own values"
