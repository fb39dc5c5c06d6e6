"""One folder holding every kind of file the ingest corpus makes, imported at once as an author would.

Issue 13's "done when": ``import_study`` on a folder mixing palette colour, a file that fails to render,
duplicates, symbolic links, junk and bombs, headers with planted identifiers, burned-in text in each modality,
12-bit lossy JPEG, mosaics, segmentations and parametric maps imports every good file, names every other file
with its reason, exits 1, and leaves no file that no image uses — with two worker processes, as sites run it.
"""

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from cases.models import Image
from cases.tests.factories import make_case
from imaging.tests.corpus import accounting, burned_in, formats, junk, reasons
from imaging.uploads import sources_from_paths
from ingest.models import IngestJob
from ingest.outcomes import index_of
from ingest.spool import ingest_limits
from ingest.tests.test_pipeline import media_files, orphans

pytestmark = pytest.mark.django_db

LINE = re.compile(r"^(already imported|duplicate|refused|not rendered) (.+) \(file (\d+)\): (.+)$", re.M)

# Burned-in text: held for the author's check (by modality, SOP class, Image Type or text in the pixels) or not.
HELD = (
    burned_in.make_xa_with_identifiers,
    burned_in.make_rf_with_identifiers,
    burned_in.make_dx_with_identifiers,
    burned_in.make_mg_with_identifiers,
    burned_in.make_op_with_identifiers,
    burned_in.make_ct_screen_save,
    burned_in.make_us_flagged_no,
    accounting.make_palette_color,  # an ultrasound and a secondary capture
)
NOT_HELD = (
    burned_in.make_dx_marker_only,
    burned_in.make_dx_without_text,
    formats.make_jpeg_extended_12bit,
    formats.make_siemens_mosaic,
    formats.make_parametric_maps,
    reasons.make_deflated,
)
GOOD = [(make.__name__.removeprefix("make_"), make) for make in (*HELD, *NOT_HELD)]
# Subfolder, generator, and the start of the reason each of its files is refused with.
REFUSED = [
    ("segmentations", formats.make_segmentations, "segmentation object"),
    ("no-instance-uid", reasons.make_without_instance_uid, "incomplete DICOM header (no SOP Instance UID)"),
    ("junk", lambda folder: junk.make_junk_file(folder, size=2 * 1024**2), "not a DICOM file"),
]
# Zips, whose members are named by their path inside the archive, and the reason each member is refused with.
ZIPS = [
    ("zeros-zip", lambda folder: junk.make_zip_of_zeros(folder, member_bytes=2 * 1024**2), "not a DICOM file"),
    ("lie", lambda folder: junk.make_declared_size_lie(folder, real_bytes=2 * 1024**2), "damaged file in the archive"),
]


@pytest.fixture
def mixed(tmp_path, settings):
    settings.TEACHINGFILE_INGEST_WORKERS = 2  # palette colour crashed the pool with two workers
    upload = tmp_path / "upload"
    upload.mkdir()
    made: dict[str, list[Path]] = {}
    made["links"] = accounting.make_symbolic_links(upload)  # store/ and study/ at the top, a target outside
    for folder, make in GOOD:
        made[folder] = make(subfolder(upload, folder))
    for folder, make, _ in (*REFUSED, *ZIPS):
        made[folder] = make(subfolder(upload, folder))
    made["rle"] = accounting.make_rle_wrong_segment_length(subfolder(upload, "rle"))
    made["duplicates"] = accounting.make_duplicates(subfolder(upload, "duplicates"))
    bombs = junk.make_image_bombs(subfolder(upload, "bombs"))
    [rendered_bomb] = [path for path in bombs if path.name == "rle-32-mpixel.dcm"]
    rendered_bomb.unlink()  # imported, at the cost of the largest frame allowed: bench/ingest.py measures it
    made["bombs"] = [path for path in bombs if path.exists()]
    made["planted"] = reasons.make_planted_headers(subfolder(upload, "planted"))
    return upload, made


def subfolder(upload: Path, name: str) -> Path:
    folder = upload / name
    folder.mkdir()
    return folder


def test_a_folder_of_every_kind_imports_the_good_names_the_rest_and_leaves_no_orphan(mixed):
    upload, made = mixed
    case = make_case(status="draft")
    before = media_files()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import_study", str(upload), case=case.number, stdout=out)
    assert exited.value.code == 1, "some files were not imported"
    printed = out.getvalue()
    not_imported = {name: (outcome, reason) for outcome, name, _, reason in LINE.findall(printed)}
    job = IngestJob.objects.get(case=case)
    counts = job.report["counts"]

    for folder, _ in GOOD:
        for path in made[folder]:
            assert relative(upload, path) not in not_imported, f"{folder}: {not_imported.get(relative(upload, path))}"
    for folder, _, reason in REFUSED:
        for path in made[folder]:
            assert not_imported[relative(upload, path)][0] == "refused"
            assert not_imported[relative(upload, path)][1].startswith(reason)
    for folder, _, reason in ZIPS:
        [archive] = made[folder]
        with zipfile.ZipFile(archive) as members:
            assert {not_imported[name] for name in members.namelist()} == {("refused", reason)}
    assert [outcome for name, (outcome, _) in not_imported.items() if name.startswith("rle/")] == ["not rendered"]
    duplicates = {name: reason for name, (outcome, reason) in not_imported.items() if outcome == "duplicate"}
    assert duplicates.keys() == {"duplicates/b_copy.dcm", "IMG0001"}, "a file's copy, and its copy inside a zip"
    assert {reason.split(" (")[-1] for reason in duplicates.values()} == {"duplicates/a_original.dcm)"}
    assert {not_imported[relative(upload, path)][1] for path in made["bombs"]} == {
        "image too large (more than 32,000,000 pixels per frame)",
        "image too large (more than 2,000 frames)",
    }
    assert not_imported["study/outside.dcm"] == ("refused", "link to a file outside the folder")
    assert not_imported["study/broken.dcm"] == ("refused", "broken link")

    assert sum(counts.values()) == len(job.report["files"]), "every candidate has exactly one outcome"
    assert counts["refused"] + counts["not rendered"] + counts["duplicate"] == len(not_imported)
    assert f"{counts['imported']} imported" in printed
    assert reasons.MRN not in "".join(reason for _, reason in not_imported.values()), "no reason quotes a header"
    assert reasons.MRN not in repr(job.report)

    held = held_by_name(upload, case)
    for make in HELD:
        assert all(held[relative(upload, path)] for path in made[make.__name__.removeprefix("make_")]), make
    for make in NOT_HELD:
        assert not any(held[relative(upload, path)] for path in made[make.__name__.removeprefix("make_")]), make
    assert orphans_or_missing(before, case) == set(), "every file written is an image's, or deleted"


def held_by_name(upload: Path, case) -> dict[str, bool]:
    """Whether each imported file's images are held, by the file's name (its index is in the stored name)."""
    listed = sources_from_paths([upload], limits=ingest_limits())
    names = {index: source.name for index, source in enumerate(listed, start=1)}
    held: dict[str, bool] = {}
    for stored, is_held in Image.objects.filter(series__case=case).values_list("dicom_file", "held_for_review"):
        name = names[index_of(stored)]
        held[name] = held.get(name, False) or is_held
    return held


def relative(upload: Path, path: Path) -> str:
    return path.relative_to(upload).as_posix()


def orphans_or_missing(before: set[str], case) -> set[str]:
    """Files the import wrote that no image names, and files the case's images name that are missing."""
    used = {
        name
        for row in Image.objects.filter(series__case=case).values_list("file", "thumbnail", "dicom_file")
        for name in row
        if name
    }
    return orphans(before) | (used - media_files())
