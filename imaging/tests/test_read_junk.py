"""Junk and bombs are refused from their first bytes and declared sizes, never read whole (issue 13 §2).

Time and memory are measured by ``bench/ingest.py --junk``; these tests hold the reasons and what is read.
"""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import PIL.Image
import pytest
from pydicom import filereader
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

from imaging import headers, jpeg
from imaging.census import census_reason
from imaging.headers import head_reason
from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.sources import FileSource, Rejected, Source, ZipMemberSource
from imaging.tests.corpus import junk
from imaging.uploads import sources_from_bytes, sources_from_file, sources_from_paths
from ingest.spool import ingest_limits

LIMITS = Limits()
MiB = junk.MiB


def outcomes(paths: list[Path], limits: Limits = LIMITS) -> dict[str, str]:
    """Return each candidate's name and its reason, or "read" when read_dataset accepts it."""
    found = {}
    for item in sources_from_paths(paths, limits=limits):
        if isinstance(item, Rejected):
            found[item.name] = item.reason
            continue
        try:
            read_dataset(item, limits=limits)
            found[item.name] = "read"
        except UnreadableFile as error:
            found[item.name] = str(error)
    return found


def test_zip_member_of_zeros_is_not_dicom(tmp_path):
    assert outcomes(junk.make_zip_of_zeros(tmp_path, member_bytes=4 * MiB)) == {"study/zeros.dcm": "not a DICOM file"}


def test_junk_file_is_not_dicom(tmp_path):
    assert outcomes(junk.make_junk_file(tmp_path, size=MiB)) == {"junk.dcm": "not a DICOM file"}
    assert outcomes(junk.make_junk_file(tmp_path, size=MiB, zeros=True)) == {"zeros.dcm": "not a DICOM file"}


def test_zeros_after_a_valid_file_meta_are_not_dicom(tmp_path):
    """The data set must start right after the File Meta Information; pydicom would walk the zeros."""
    (path,) = junk.make_header_then_zeros(tmp_path, size=MiB)
    assert outcomes([path]) == {"header-then-zeros.dcm": "not a DICOM file"}
    with pytest.raises(UnreadableFile, match="^not a DICOM file$"):
        read_dataset(Source("upload", path.read_bytes()), limits=LIMITS)


def test_archives_nested_past_one_level_are_not_opened(tmp_path):
    assert outcomes(junk.make_nested_zips(tmp_path, member_bytes=MiB)) == {
        "level1.zip/level2.zip": "archive nested too deeply"
    }


def test_archive_with_more_members_than_the_limit_is_refused_whole(tmp_path):
    paths = junk.make_many_members(tmp_path, members=101)
    assert outcomes(paths, Limits(max_archive_members=100)) == {"many.zip": "archive too large"}


def test_member_larger_than_it_declares_is_damaged(tmp_path):
    """The zip reader stops at the declared size and finds the checksum wrong, lazily or not."""
    (path,) = junk.make_declared_size_lie(tmp_path, real_bytes=4 * MiB)
    assert outcomes([path]) == {"image.dcm": "damaged file in the archive"}
    assert list(sources_from_bytes("lie.zip", path.read_bytes(), limits=LIMITS)) == [
        Rejected("image.dcm", "damaged file in the archive")
    ]


def test_deflated_data_set_is_refused_when_it_inflates_past_the_file_limit(tmp_path):
    (path,) = junk.make_deflate_bomb(tmp_path, inflated_bytes=4 * MiB)
    assert path.stat().st_size < 64 * 1024
    assert outcomes([path], Limits(max_file_bytes=2 * MiB)) == {"deflate-bomb.dcm": "file too large"}
    assert outcomes([path], Limits(max_file_bytes=8 * MiB)) != {"deflate-bomb.dcm": "file too large"}


def test_deflated_file_within_the_limit_still_reads():
    data = Path(get_testdata_file("image_dfl.dcm", download=False)).read_bytes()
    assert read_dataset(Source("image_dfl.dcm", data), limits=LIMITS).Rows > 0


def test_huge_declared_images_are_refused_from_the_header(tmp_path):
    found = outcomes(junk.make_image_bombs(tmp_path))
    assert found["huge-frame.dcm"] == "image too large (more than 32,000,000 pixels per frame)"
    assert found["many-frames.dcm"] == "image too large (more than 2,000 frames)"
    assert found["rle-32-mpixel.dcm"] == "read"


# --------------------------------------------------------------------------
# what is read


def stored_member_with_bad_checksum(head: bytes) -> bytes:
    """Return a zip whose one stored member is head + 1 MiB, its checksum wrong: reading it to the end fails."""
    content = head + bytes(MiB)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("member.dcm", content)
    data = bytearray(buffer.getvalue())
    wrong = (zlib.crc32(content) ^ 0xFFFFFFFF).to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):  # CRC-32 of the local and central headers
        position = data.find(signature) + offset
        data[position : position + 4] = wrong
    return bytes(data)


@pytest.mark.parametrize("on_disk", [False, True], ids=["upload", "folder"])
def test_zip_member_with_a_junk_head_is_refused_without_reading_the_rest(tmp_path, on_disk):
    """Only the head is decompressed: the bad checksum at the end of the member is never reached."""
    data = stored_member_with_bad_checksum(b"junk" * 1024)
    control = stored_member_with_bad_checksum(junk.image_bytes())
    if on_disk:
        (tmp_path / "junk.zip").write_bytes(data)
        (tmp_path / "control.zip").write_bytes(control)
        assert outcomes([tmp_path / "junk.zip"]) == {"member.dcm": "not a DICOM file"}
        # The control reads its member to the end, so the bad checksum shows: the test can fail.
        assert outcomes([tmp_path / "control.zip"]) == {"member.dcm": "damaged file in the archive"}
    else:
        assert list(sources_from_bytes("junk.zip", data, limits=LIMITS)) == [Rejected("member.dcm", "not a DICOM file")]
        assert list(sources_from_bytes("control.zip", control, limits=LIMITS)) == [
            Rejected("member.dcm", "damaged file in the archive")
        ]


class CountingReader(io.BytesIO):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_junk_upload_is_refused_from_its_first_64_kib():
    handle = CountingReader(bytes(8 * MiB))
    assert list(sources_from_file("junk.dcm", handle, size=8 * MiB, limits=LIMITS)) == [
        Rejected("junk.dcm", "not a DICOM file")
    ]
    assert handle.bytes_read <= 64 * 1024


def test_good_upload_is_read_whole_once():
    data = junk.image_bytes()
    handle = CountingReader(data)
    assert list(sources_from_file("image.dcm", handle, size=len(data), limits=LIMITS)) == [Source("image.dcm", data)]
    assert handle.bytes_read == len(data)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_members_of_an_archive_on_disk_are_decompressed_by_the_reader(tmp_path):
    data = junk.image_bytes()
    with zipfile.ZipFile(tmp_path / "study.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.dcm", data)
        archive.writestr("a.dcm", junk.image_bytes())  # the same name twice: each member is its own candidate
    first, second = sources_from_paths([tmp_path / "study.zip"], limits=LIMITS)
    assert isinstance(first, ZipMemberSource) and isinstance(second, ZipMemberSource)
    assert first.data == data and second.data != data
    assert "bytes" not in repr(first)


# --------------------------------------------------------------------------
# what is still accepted


@pytest.mark.parametrize(
    "name", ["ExplVR_LitEndNoMeta.dcm", "ExplVR_BigEndNoMeta.dcm", "rtstruct.dcm", "CT_small.dcm", "image_dfl.dcm"]
)
def test_files_read_today_pass_the_head_check(name):
    """Files without the preamble that read_dataset accepts (a data set with its SOP UIDs) stay candidates."""
    data = Path(get_testdata_file(name, download=False)).read_bytes()
    assert head_reason(data[: 64 * 1024]) is None
    assert list(sources_from_bytes(name, data, limits=LIMITS)) == [Source(name, data)]


def test_file_meta_without_preamble_passes_the_head_check(tmp_path):
    path = tmp_path / "meta-first.dcm"
    path.write_bytes(junk.image_bytes()[132:])
    assert list(sources_from_paths([path], limits=LIMITS)) == [FileSource("meta-first.dcm", path)]


def test_limits_come_from_the_settings(settings):
    settings.TEACHINGFILE_MAX_DICOM_FILE_BYTES = 1000
    settings.TEACHINGFILE_MAX_ARCHIVE_BYTES = 2000
    settings.TEACHINGFILE_MAX_ARCHIVE_FILES = 3
    settings.TEACHINGFILE_MAX_DICOM_FRAME_PIXELS = 4
    assert ingest_limits() == Limits(
        max_file_bytes=1000, max_archive_bytes=2000, max_archive_members=3, max_pixels_per_frame=4
    )


def test_zeros_after_a_data_set_end_it(tmp_path):
    """Trailing zeros are padding, not elements: the image imports, a header without pixels says so."""
    assert outcomes(junk.make_zeros_after_a_data_set(tmp_path, size=MiB)) == {
        "no-pixels.dcm": "no pixel data (Secondary Capture Image Storage)",
        "padded.dcm": "read",
    }


def test_data_set_of_a_million_elements_is_damaged(tmp_path):
    assert outcomes(junk.make_element_flood(tmp_path, elements=200_000)) == {
        "element-flood.dcm": "damaged DICOM file (more than 100,000 top-level elements)"
    }


# --------------------------------------------------------------------------
# sequences and compressed frames


TOO_MANY = "damaged DICOM file (more than 300,000 elements and sequence items)"
TOO_DEEP = "damaged DICOM file (sequences nested more than 32 deep)"
FRAME_SIZE = "damaged pixel data (a frame declares another size than Rows, Columns, Samples per Pixel)"


@pytest.fixture
def parsed_items(monkeypatch):
    """Count the sequence items pydicom parses (each ``read_sequence_item`` call), wherever it parses them."""
    counted = []
    original = filereader.read_sequence_item

    def counting(*args, **kwargs):
        counted.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(filereader, "read_sequence_item", counting)
    return counted


def test_a_sequence_of_many_items_is_refused_before_pydicom_parses_one(tmp_path, parsed_items):
    """300,000 elements and items at all levels: one more is refused, parsed now or when first touched."""
    paths = junk.make_sequence_floods(tmp_path, items=300_001)
    assert outcomes(paths) == {"items-undefined.dcm": TOO_MANY, "items-defined.dcm": TOO_MANY}
    assert parsed_items == []


def test_a_sequence_of_a_thousand_items_reads(tmp_path):
    assert outcomes(junk.make_sequence_floods(tmp_path, items=1000)) == {
        "items-undefined.dcm": "read",
        "items-defined.dcm": "read",
    }


@pytest.mark.parametrize("depth", [33, 100_000])
def test_sequences_nested_more_than_32_deep_are_refused_before_pydicom_parses_them(tmp_path, parsed_items, depth):
    paths = junk.make_deep_sequences(tmp_path, depth=depth, defined_depth=33)
    assert outcomes(paths) == {"nested-undefined.dcm": TOO_DEEP, "nested-defined.dcm": TOO_DEEP}
    assert parsed_items == []


def test_sequences_nested_32_deep_read(tmp_path):
    paths = junk.make_deep_sequences(tmp_path, depth=32, defined_depth=32)
    assert outcomes(paths) == {"nested-undefined.dcm": "read", "nested-defined.dcm": "read"}


def nested_data_set(*, undefined: bool) -> Dataset:
    """Return a data set of 20 elements and items on 3 levels: 2 at the top, 3 items of 3 elements, a
    sequence of one item of one element in each."""
    ds = Dataset()
    ds.Modality = "OT"
    items = []
    for _ in range(3):
        code = Dataset()
        code.CodeValue = "121311"
        item = Dataset()
        item.ReferencedSOPClassUID = item.ReferencedSOPInstanceUID = "1.2.3"
        item.PurposeOfReferenceCodeSequence = [code]
        item["PurposeOfReferenceCodeSequence"].is_undefined_length = undefined
        for each in (item, code):
            each.is_undefined_length_sequence_item = undefined
        items.append(item)
    ds.ReferencedImageSequence = items
    ds["ReferencedImageSequence"].is_undefined_length = undefined
    return ds


@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
@pytest.mark.parametrize(
    ("implicit", "little"), [(True, True), (False, True), (False, False)], ids=["implicit", "explicit", "big"]
)
def test_the_census_counts_every_level_in_every_encoding(implicit, little, undefined):
    buffer = io.BytesIO()
    nested_data_set(undefined=undefined).save_as(buffer, implicit_vr=implicit, little_endian=little)
    data = buffer.getvalue()
    assert census_reason(data, 0, implicit=implicit, little=little, max_top_level=2, max_count=20, max_depth=2) is None
    assert census_reason(data, 0, implicit=implicit, little=little, max_top_level=2, max_count=19, max_depth=2) == (
        "damaged DICOM file (more than 19 elements and sequence items)"
    )
    assert census_reason(data, 0, implicit=implicit, little=little, max_top_level=2, max_count=20, max_depth=1) == (
        "damaged DICOM file (sequences nested more than 1 deep)"
    )


def test_compressed_frames_declaring_more_pixels_than_rows_and_columns_are_refused(tmp_path):
    """JPEG's SOF, JPEG-LS's SOF55 and JPEG 2000's SIZ are read before any decoder allocates by them."""
    paths = junk.make_frame_size_lies(tmp_path)
    assert outcomes(paths) == {"jpeg.dcm": FRAME_SIZE, "jpeg-ls.dcm": FRAME_SIZE, "jpeg-2000.dcm": FRAME_SIZE}


def test_compressed_frames_declaring_their_rows_and_columns_read(tmp_path):
    paths = junk.make_frame_size_lies(tmp_path, side=16)
    assert outcomes(paths) == {"jpeg.dcm": "read", "jpeg-ls.dcm": "read", "jpeg-2000.dcm": "read"}


@pytest.mark.parametrize("samples", [2, 1000])
def test_samples_per_pixel_other_than_one_three_or_four_is_refused_before_decoding(tmp_path, samples):
    """A codestream may declare as many components as the header claims: the header is bounded first."""
    path = junk.make_frame_size_lies(tmp_path, side=16)[0]
    dataset = filereader.dcmread(path)
    dataset.SamplesPerPixel = samples
    dataset.save_as(path)
    assert outcomes([path]) == {"jpeg.dcm": "invalid image header (Samples per Pixel is not 1, 3 or 4)"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"format": "JPEG"}, (12, 20, 3)),
        ({"format": "JPEG", "progressive": True}, (12, 20, 3)),
        ({"format": "JPEG2000", "no_jp2": True}, (12, 20, 3)),
        ({"format": "JPEG2000"}, (12, 20, 3)),  # wrapped in JP2 boxes
        ({"format": "PNG"}, None),
    ],
    ids=["baseline", "progressive", "j2k", "jp2", "png"],
)
def test_frame_size_reads_the_codestream_header(options, expected):
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (20, 12)).save(buffer, **options)
    assert jpeg.frame_size(buffer.getvalue()) == expected


@pytest.mark.parametrize("form", ["deflated", "without preamble", "implicit VR"])
def test_sequences_are_counted_in_every_form_of_file(monkeypatch, form):
    """The census walks what pydicom would parse: the inflated data set, a file read by the probe."""
    monkeypatch.setattr(headers, "_MAX_ELEMENTS_IN_ALL", 100)
    ds = junk.image_dataset()
    ds.ReferencedImageSequence = [Dataset() for _ in range(101)]
    syntax = {"deflated": DeflatedExplicitVRLittleEndian, "implicit VR": ImplicitVRLittleEndian}
    ds.file_meta.TransferSyntaxUID = syntax.get(form, ds.file_meta.TransferSyntaxUID)
    data = junk.image_bytes(ds)
    if form == "without preamble":
        data = data[132:]
    assert outcomes_of(data) == "damaged DICOM file (more than 100 elements and sequence items)"
    del ds.ReferencedImageSequence[-80:]
    data = junk.image_bytes(ds)
    assert outcomes_of(data[132:] if form == "without preamble" else data) == "read"


def outcomes_of(data: bytes) -> str:
    try:
        read_dataset(Source("upload", data), limits=LIMITS)
    except UnreadableFile as error:
        return str(error)
    return "read"


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit UN", "implicit"])
def test_the_census_counts_a_private_sequence_pydicom_would_parse(implicit):
    """A private element of undefined length holding items: pydicom parses it as a sequence (PS3.5 6.2.2)."""
    items = struct.pack("<HHI", 0xFFFE, 0xE000, 0) * 3 + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    if implicit:
        data = struct.pack("<HHI", 0x0008, 0x0060, 2) + b"OT" + struct.pack("<HHI", 0x0009, 0x1001, 0xFFFFFFFF)
    else:
        data = struct.pack("<HH", 0x0008, 0x0060) + b"CS\x02\x00OT" + struct.pack("<HH", 0x0009, 0x1001)
        data += b"UN\x00\x00" + struct.pack("<I", 0xFFFFFFFF)
    data += items
    limits = {"implicit": implicit, "little": True, "max_top_level": 2, "max_depth": 1}
    assert census_reason(data, 0, max_count=5, **limits) is None
    assert census_reason(data, 0, max_count=4, **limits) == (
        "damaged DICOM file (more than 4 elements and sequence items)"
    )
