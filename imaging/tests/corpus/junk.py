"""Junk and bomb inputs for the DICOM import: small on disk, large or endless once read.

Each ``make_…`` function writes its files into a folder and returns their paths; its docstring says what is
wrong with them and what the import must do.  The sizes are parameters so that ``bench/ingest.py`` can make
the large versions (a 200 MiB member, a 64 MiB file) that tests do not need.  Nothing here is a patient:
the one image is a flat synthetic square.
"""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import PIL.Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

MiB = 1024 * 1024
_CHUNK = MiB


def image_dataset(*, rows: int = 16, columns: int = 16, frames: int = 1) -> Dataset:
    """Return a small valid 16-bit greyscale secondary capture (header and native pixel data)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, columns, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = np.full(rows * columns * frames, 1000, dtype="<u2").tobytes()
    return ds


def image_bytes(ds: Dataset | None = None) -> bytes:
    """Return a dataset as a Part 10 file."""
    buffer = io.BytesIO()
    (ds or image_dataset()).save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def part10_head() -> bytes:
    """Return a valid preamble, ``DICM`` and File Meta Information, with no data set after them."""
    data = image_bytes()
    meta_length = struct.unpack("<I", data[140:144])[0]
    return data[: 144 + meta_length]


def _write_zeros(stream, size: int) -> None:
    zeros = bytes(_CHUNK)
    for start in range(0, size, _CHUNK):
        stream.write(zeros[: min(_CHUNK, size - start)])


def make_zip_of_zeros(folder: Path, *, member_bytes: int = 16 * MiB) -> list[Path]:
    """A zip holding one member of zeros (a few kB compressed): refused "not a DICOM file" from its first bytes.

    The import must not decompress the whole member (issue 13 §2: 200 MiB took 95 s and 689 MB).
    """
    path = folder / "zeros.zip"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("study/zeros.dcm", "w", force_zip64=member_bytes > 2**31) as stream,
    ):
        _write_zeros(stream, member_bytes)
    return [path]


def make_junk_file(folder: Path, *, size: int = 16 * MiB, zeros: bool = False) -> list[Path]:
    """A file of pseudo-random bytes, or of zeros, named like DICOM: refused "not a DICOM file" from its first bytes.

    Zeros were the slow kind: without a preamble, the probe read them as millions of empty elements.
    """
    path = folder / ("zeros.dcm" if zeros else "junk.dcm")
    generator = np.random.default_rng(13)
    with path.open("wb") as stream:
        if zeros:
            _write_zeros(stream, size)
        for start in range(0, 0 if zeros else size, _CHUNK):
            stream.write(generator.bytes(min(_CHUNK, size - start)))
    return [path]


def make_header_then_zeros(folder: Path, *, size: int = 16 * MiB) -> list[Path]:
    """A valid preamble and File Meta, then zeros where the data set should be: refused "not a DICOM file".

    pydicom would otherwise walk the zeros as millions of empty (0000,0000) elements (26 s for 64 MiB).
    """
    path = folder / "header-then-zeros.dcm"
    with path.open("wb") as stream:
        head = part10_head()
        stream.write(head)
        _write_zeros(stream, size - len(head))
    return [path]


def make_zeros_after_a_data_set(folder: Path, *, size: int = 16 * MiB) -> list[Path]:
    """Two files whose data set is followed by zeros: pydicom would read them as millions of empty elements.

    ``padded.dcm`` is a complete image followed by zeros: imported, the zeros ignored.  ``no-pixels.dcm``
    has the image's header but zeros where its pixel data should be: refused "no pixel data".  Both are
    read no further than the first zeros.
    """
    image = image_bytes()
    header = image_dataset()
    del header.PixelData
    paths = []
    for name, data in (("padded.dcm", image), ("no-pixels.dcm", image_bytes(header))):
        path = folder / name
        with path.open("wb") as stream:
            stream.write(data)
            _write_zeros(stream, size - len(data))
        paths.append(path)
    return paths


def make_element_flood(folder: Path, *, elements: int = 1_000_000) -> list[Path]:
    """A data set of ``elements`` empty private elements, each of a new tag (8 bytes apiece).

    pydicom would keep every one in memory (about 300 bytes each): refused "damaged DICOM file (more than
    100,000 top-level elements)" before pydicom reads one.
    """
    ds = image_dataset()
    del ds.PixelData
    path = folder / "element-flood.dcm"
    with path.open("wb") as stream:
        stream.write(image_bytes(ds))
        per_group = 0x10000 - 0x1000  # private data elements of each odd group, (gggg,1000) to (gggg,FFFF)
        for index in range(elements):
            group, element = 0x0009 + 2 * (index // per_group), 0x1000 + index % per_group
            stream.write(struct.pack("<HH", group, element) + b"LO\x00\x00")
    return [path]


def make_nested_zips(folder: Path, *, depth: int = 4, member_bytes: int = 4 * MiB) -> list[Path]:
    """Zips inside zips around a member of zeros: the third level is refused "archive nested too deeply".

    One zip inside the upload's zip is expanded (exports nest once); deeper ones are never opened.
    """
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.dcm", "w") as stream,
    ):
        _write_zeros(stream, member_bytes)
    data = buffer.getvalue()
    for level in range(depth - 1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"level{depth - 1 - level}.zip", data)
        data = buffer.getvalue()
    path = folder / "nested.zip"
    path.write_bytes(data)
    return [path]


def make_many_members(folder: Path, *, members: int = 20_001) -> list[Path]:
    """A zip with one member more than the default limit of 20,000 files: refused "archive too large" whole."""
    path = folder / "many.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(members):
            archive.writestr(f"{index:06d}.dcm", b"x")
    return [path]


def make_declared_size_lie(folder: Path, *, real_bytes: int = 16 * MiB) -> list[Path]:
    """A zip whose member declares the size of a small image but inflates to ``real_bytes``.

    The image is followed by zeros the archive does not declare.  Python's zip reader never returns more
    than the declared size and then finds the checksum wrong: refused "damaged file in the archive".
    """
    image = image_bytes()
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("image.dcm", image + bytes(real_bytes - len(image)))
    data = bytearray(content.getvalue())
    # The uncompressed size: offset 22 of the local file header, offset 24 of the central directory entry.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        position = data.find(signature) + offset
        data[position : position + 4] = struct.pack("<I", len(image))
    path = folder / "lie.zip"
    path.write_bytes(bytes(data))
    return [path]


def make_deflate_bomb(folder: Path, *, inflated_bytes: int = 256 * MiB) -> list[Path]:
    """A Deflated Explicit VR Little Endian file whose data set inflates to ``inflated_bytes`` (about 1/1000 on disk).

    Refused "file too large" (the per-file limit applies to the inflated data set) before pydicom inflates it.
    """
    ds = image_dataset()
    del ds.PixelData
    plain = image_bytes(ds)
    meta_end = 144 + struct.unpack("<I", plain[140:144])[0]
    meta = FileMetaDataset(ds.file_meta)
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = io.BytesIO()
    head.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(head, meta, enforce_standard=True)
    pixels = inflated_bytes - len(plain)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    path = folder / "deflate-bomb.dcm"
    with path.open("wb") as stream:
        stream.write(head.getvalue())
        stream.write(deflater.compress(plain[meta_end:]))
        # (7FE0,0010) OW in explicit VR: tag, VR, two reserved bytes, a 4-byte length, then the zeros.
        stream.write(deflater.compress(b"\xe0\x7f\x10\x00OW\x00\x00" + struct.pack("<I", pixels)))
        zeros = bytes(_CHUNK)
        for start in range(0, pixels, _CHUNK):
            stream.write(deflater.compress(zeros[: min(_CHUNK, pixels - start)]))
        stream.write(deflater.flush())
    return [path]


def make_image_bombs(folder: Path) -> list[Path]:
    """Small files whose headers announce huge images.

    ``huge-frame.dcm`` declares 65,535 × 65,535 pixels and ``many-frames.dcm`` 1,000,000 frames, each with a
    few bytes of pixel data: refused "image too large (…)" from the header, nothing decoded.
    ``rle-32-mpixel.dcm`` is a valid RLE image of 5,656 × 5,656 16-bit pixels (just under 32 million, the
    default limit) in about 1 MB: it is imported, and rendering it costs what the largest allowed frame costs.
    """
    huge = image_dataset()
    huge.Rows = huge.Columns = 65_535
    many = image_dataset()
    many.NumberOfFrames = 1_000_000
    paths = []
    for name, ds in (("huge-frame.dcm", huge), ("many-frames.dcm", many), ("rle-32-mpixel.dcm", rle_image(5656))):
        path = folder / name
        path.write_bytes(image_bytes(ds))
        paths.append(path)
    return paths


def rle_image(side: int) -> Dataset:
    """Return a side × side 16-bit image of one grey value, RLE encoded by hand (PS3.5 Annex G)."""
    ds = image_dataset()
    ds.Rows = ds.Columns = side
    ds.file_meta.TransferSyntaxUID = RLELossless
    segments = [_rle_segment(value, side) for value in (0x03, 0xE8)]  # 1000 = 0x03E8, high byte first
    header = struct.pack("<16I", 2, 64, 64 + len(segments[0]), *([0] * 13))
    ds.PixelData = encapsulate([header + b"".join(segments)])
    ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    return ds


def _rle_segment(value: int, side: int) -> bytes:
    """Return one RLE segment repeating a byte, each row encoded on its own (PS3.5 G.3.1)."""
    full, rest = divmod(side, 128)
    row = bytes([129, value]) * full + (bytes([257 - rest, value]) if rest > 1 else bytes([0, value]) * rest)
    segment = row * side
    return segment + b"\x00" * (len(segment) % 2)


def _with_sequence(keyword: str, value: bytes, *, defined_length: bool) -> bytes:
    """Return a small valid image whose sequence ``keyword`` holds the raw items ``value``, written by hand."""
    ds = image_dataset()
    setattr(ds, keyword, [])
    data = image_bytes(ds)
    tag = ds.data_element(keyword).tag
    start = data.index(struct.pack("<HH", tag.group, tag.element) + b"SQ\x00\x00")
    written = 12 + (8 if struct.unpack_from("<I", data, start + 8)[0] == 0xFFFFFFFF else 0)  # empty: just a delimiter
    return (
        data[:start] + _sequence(tag.group, tag.element, value, defined_length=defined_length) + data[start + written :]
    )


def _sequence(group: int, element: int, value: bytes, *, defined_length: bool) -> bytes:
    """Return an explicit VR little endian sequence element around raw items (PS3.5 7.5.2)."""
    if defined_length:
        return struct.pack("<HH", group, element) + b"SQ\x00\x00" + struct.pack("<I", len(value)) + value
    return struct.pack("<HH", group, element) + b"SQ\x00\x00" + b"\xff" * 4 + value + _SEQUENCE_END


def _item(value: bytes) -> bytes:
    """Return an item of defined length."""
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(value)) + value


_ITEM_UNDEFINED = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
_ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
_SEQUENCE_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def make_sequence_floods(folder: Path, *, items: int = 2_000_000) -> list[Path]:
    """Two images whose Referenced Image Sequence holds ``items`` tiny items, a few bytes each.

    ``items-undefined.dcm``: a sequence of undefined length of empty items (8 bytes apiece), which pydicom
    parses while it reads the file, one data set of about 700 bytes per item; ``items-defined.dcm``: a
    sequence of defined length of items holding one empty element each (16 bytes apiece), which pydicom
    parses when the sequence is first touched (by de-identification).  Both are refused "damaged DICOM file
    (more than 300,000 elements and sequence items)" before pydicom parses any item.
    """
    empty_item, one_element = _item(b""), _item(struct.pack("<HH", 0x0008, 0x1150) + b"UI\x00\x00")
    paths = []
    for name, item, defined in (("items-undefined.dcm", empty_item, False), ("items-defined.dcm", one_element, True)):
        path = folder / name
        path.write_bytes(_with_sequence("ReferencedImageSequence", item * items, defined_length=defined))
        paths.append(path)
    return paths


def make_deep_sequences(folder: Path, *, depth: int = 100_000, defined_depth: int = 40) -> list[Path]:
    """Two images whose Content Sequence nests levels of one item holding the next sequence.

    ``nested-undefined.dcm`` nests ``depth`` sequences and items of undefined length (36 bytes a level),
    which pydicom parses by recursion while it reads the file; ``nested-defined.dcm`` nests
    ``defined_depth`` of defined length, which pydicom parses one level at a time as they are touched.
    Past 32 levels both are refused "damaged DICOM file (sequences nested more than 32 deep)" before pydicom
    parses any item.
    """
    tag = (0x0040, 0xA730)
    opening = struct.pack("<HH", *tag) + b"SQ\x00\x00" + b"\xff" * 4 + _ITEM_UNDEFINED
    closing = _ITEM_END + _SEQUENCE_END
    undefined = _ITEM_UNDEFINED + opening * (depth - 1) + closing * (depth - 1) + _ITEM_END
    defined = _item(b"")
    for _ in range(defined_depth - 1):  # and the Content Sequence around them
        defined = _item(_sequence(*tag, defined, defined_length=True))
    paths = []
    for name, value, is_defined in (("nested-undefined.dcm", undefined, False), ("nested-defined.dcm", defined, True)):
        path = folder / name
        path.write_bytes(_with_sequence("ContentSequence", value, defined_length=is_defined))
        paths.append(path)
    return paths


def make_frame_size_lies(folder: Path, *, side: int = 65_535) -> list[Path]:
    """Three 16 × 16 images whose one compressed frame declares ``side`` × ``side`` pixels in its own header.

    ``jpeg.dcm`` (baseline JPEG, the SOF's lines and samples per line), ``jpeg-ls.dcm`` (JPEG-LS, SOF55) and
    ``jpeg-2000.dcm`` (JPEG 2000, SIZ).  The decoders allocate what the codestream declares: 65,535² pixels
    would take 4 GiB and more.  Refused "damaged pixel data (a frame declares another size than Rows,
    Columns, Samples per Pixel)" before anything is decoded; with ``side=16`` they are honest and read.
    """
    grey = PIL.Image.new("L", (16, 16), 128)
    frames = {}
    for name, syntax, options in (
        ("jpeg.dcm", JPEGBaseline8Bit, {"format": "JPEG", "quality": 90}),
        ("jpeg-2000.dcm", JPEG2000Lossless, {"format": "JPEG2000", "no_jp2": True}),
    ):
        buffer = io.BytesIO()
        grey.save(buffer, **options)
        frames[name] = (syntax, bytearray(buffer.getvalue()))
    jpeg = frames["jpeg.dcm"][1]
    lines = jpeg.index(b"\xff\xc0") + 5  # SOF0: marker, Lf (2), P (1), then Y and X (T.81 B.2.2)
    jpeg[lines : lines + 4] = struct.pack(">HH", side, side)
    frames["jpeg-2000.dcm"][1][8:16] = struct.pack(">II", side, side)  # SIZ's Xsiz and Ysiz (T.800 A.5.1)
    # JPEG-LS by hand (T.87 C.2): SOF55 with Y and X, one 8-bit component; a scan header; a little data.
    size = struct.pack(">BHHB", 8, side, side, 1) + b"\x01\x11\x00"
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00"
    frames["jpeg-ls.dcm"] = (JPEGLSLossless, b"\xff\xd8\xff\xf7\x00\x0b" + size + scan + bytes(64) + b"\xff\xd9")
    paths = []
    for name, (syntax, frame) in frames.items():
        ds = image_dataset()
        ds.file_meta.TransferSyntaxUID = syntax
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        ds.PixelData = encapsulate([bytes(frame)])
        ds["PixelData"].is_undefined_length = True
        ds["PixelData"].VR = "OB"
        path = folder / name
        path.write_bytes(image_bytes(ds))
        paths.append(path)
    return paths
