"""Tests for imaging.uploads, imaging.zips and imaging.sources: uploads, folders and archives → candidate files."""

import io
import zipfile
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.sources import FileSource, Rejected, Source, ZipMemberSource
from imaging.uploads import sources_from_bytes, sources_from_paths

LIMITS = Limits()


def bundled(name: str) -> bytes:
    return Path(get_testdata_file(name, download=False)).read_bytes()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def sources(name: str, data: bytes, limits: Limits = LIMITS) -> list[Source | Rejected]:
    return list(sources_from_bytes(name, data, limits=limits))


def test_zip_member_outside_the_archive_is_rejected_and_good_members_still_come():
    ct = bundled("CT_small.dcm")
    data = make_zip({"../evil.dcm": ct, "/etc/evil.dcm": ct, "C:/evil.dcm": ct, "study/a/../ct.dcm": ct})

    found = sources("upload.zip", data)

    assert Rejected("../evil.dcm", "path outside the archive") in found
    assert Rejected("/etc/evil.dcm", "path outside the archive") in found
    assert Rejected("C:/evil.dcm", "path outside the archive") in found
    assert Source("study/ct.dcm", ct) in found
    assert len(found) == 4


def test_zip_is_detected_by_content_not_extension():
    ct = bundled("CT_small.dcm")
    assert sources("images.dat", make_zip({"one.dcm": ct})) == [Source("one.dcm", ct)]


def test_zip_clutter_and_dicomdir_are_skipped_silently():
    ct = bundled("CT_small.dcm")
    dicomdir = bundled("DICOMDIR")
    data = make_zip(
        {
            "__MACOSX/._ct.dcm": b"\x00\x05\x16\x07",
            "study/.DS_Store": b"Bud1",
            "study/DICOMDIR": dicomdir,
            "study/index": dicomdir,  # a DICOMDIR by content, whatever its name
            "study/ct.dcm": ct,
            "study/empty.dcm": b"",
        }
    )
    assert sources("upload.zip", data) == [Source("study/ct.dcm", ct), Rejected("study/empty.dcm", "empty file")]


def test_dicomdir_upload_is_skipped():
    assert sources("DICOMDIR", bundled("DICOMDIR")) == []
    assert sources("DICOMDIR-bigEnd", bundled("DICOMDIR-bigEnd")) == []


def test_nested_zip_is_expanded_once_only():
    ct = bundled("CT_small.dcm")
    inner = make_zip({"ct.dcm": ct})
    middle = make_zip({"inner.zip": inner, "mr.dcm": ct})
    outer = make_zip({"middle.zip": middle})

    assert sources("one.zip", middle) == [Source("inner.zip/ct.dcm", ct), Source("mr.dcm", ct)]
    assert sources("two.zip", outer) == [
        Rejected("middle.zip/inner.zip", "archive nested too deeply"),
        Source("middle.zip/mr.dcm", ct),
    ]


def test_zip_bomb_is_refused_from_its_declared_sizes():
    bomb = make_zip({f"zeros{i}.bin": b"\x00" * 1_000_000 for i in range(5)})
    assert len(bomb) < 50_000
    assert sources("bomb.zip", bomb, Limits(max_archive_bytes=4_000_000)) == [Rejected("bomb.zip", "archive too large")]


def test_zip_with_too_many_members_is_refused():
    data = make_zip({f"{i}.dcm": b"x" for i in range(11)})
    assert sources("many.zip", data, Limits(max_archive_members=10)) == [Rejected("many.zip", "archive too large")]
    assert len(sources("many.zip", data, Limits(max_archive_members=11))) == 11


def test_nested_archives_share_one_budget():
    inner = make_zip({f"{i}.dcm": b"x" for i in range(6)})
    outer = make_zip({"a.zip": inner, "b.zip": inner})
    found = sources("outer.zip", outer, Limits(max_archive_members=10))
    assert Rejected("b.zip", "archive too large") in found
    assert [item.name for item in found].count("b.zip") == 1
    assert sum(item.name.startswith("a.zip/") for item in found) == 6


def test_damaged_zip_is_rejected():
    data = make_zip({"ct.dcm": bundled("CT_small.dcm")})
    assert sources("broken.zip", data[:200]) == [Rejected("broken.zip", "damaged archive")]


def test_dicom_whose_preamble_starts_like_a_zip_is_not_expanded():
    data = b"PK\x03\x04" + bundled("CT_small.dcm")[4:]
    assert sources("ct.dcm", data) == [Source("ct.dcm", data)]
    assert read_dataset(Source("ct.dcm", data), limits=LIMITS).Modality == "CT"


def test_sources_from_paths_walks_folders_sorted_and_skips_hidden_files(tmp_path):
    ct = bundled("CT_small.dcm")
    (tmp_path / "study" / "series2").mkdir(parents=True)
    (tmp_path / "study" / "series1").mkdir()
    (tmp_path / "study" / ".git").mkdir()
    (tmp_path / "study" / "series2" / "b.dcm").write_bytes(ct)
    (tmp_path / "study" / "series1" / "b.dcm").write_bytes(ct)
    (tmp_path / "study" / "series1" / "a.dcm").write_bytes(ct)
    (tmp_path / "study" / ".hidden.dcm").write_bytes(ct)
    (tmp_path / "study" / ".git" / "config").write_bytes(b"x")
    (tmp_path / "study" / "DICOMDIR").write_bytes(bundled("DICOMDIR"))
    (tmp_path / "study" / "empty.dcm").write_bytes(b"")
    (tmp_path / "more.zip").write_bytes(make_zip({"z/c.dcm": ct}))
    (tmp_path / "single.dcm").write_bytes(ct)

    found = list(
        sources_from_paths(
            [tmp_path / "study", tmp_path / "more.zip", tmp_path / "single.dcm", tmp_path / "gone.dcm"],
            limits=LIMITS,
        )
    )

    assert found == [
        Rejected("empty.dcm", "empty file"),
        FileSource("series1/a.dcm", tmp_path / "study" / "series1" / "a.dcm"),
        FileSource("series1/b.dcm", tmp_path / "study" / "series1" / "b.dcm"),
        FileSource("series2/b.dcm", tmp_path / "study" / "series2" / "b.dcm"),
        found[4],
        FileSource("single.dcm", tmp_path / "single.dcm"),
        Rejected("gone.dcm", "file not found"),
    ]
    assert found[1].data == ct
    # A member of an archive on disk is decompressed only by whoever parses it.
    assert isinstance(found[4], ZipMemberSource)
    assert (found[4].name, found[4].data) == ("z/c.dcm", ct)


def test_a_listed_file_that_disappears_is_reported_when_read(tmp_path):
    path = tmp_path / "a.dcm"
    path.write_bytes(bundled("CT_small.dcm"))
    (source,) = sources_from_paths([path], limits=LIMITS)
    path.unlink()

    with pytest.raises(UnreadableFile, match="file cannot be opened"):
        read_dataset(source, limits=LIMITS)


def test_good_and_bad_files_of_one_upload_are_reported_separately():
    """Invariant 3: each bad file is named with its reason, the good ones still read."""
    ct, sr = bundled("CT_small.dcm"), bundled("test-SR.dcm")
    outcomes = {}
    for item in sources("upload.zip", make_zip({"ct.dcm": ct, "report.dcm": sr, "notes.txt": b"hello"})):
        if isinstance(item, Rejected):
            outcomes[item.name] = item.reason
            continue
        try:
            outcomes[item.name] = read_dataset(item, limits=LIMITS).Modality
        except UnreadableFile as error:
            outcomes[item.name] = str(error)
    assert outcomes == {
        "ct.dcm": "CT",
        "report.dcm": "no pixel data (structured report)",
        "notes.txt": "not a DICOM file",
    }


def test_source_repr_does_not_dump_the_bytes():
    assert repr(Source("a.dcm", b"\x00" * 10_000)) == "Source(name='a.dcm', data=<10000 bytes>)"
