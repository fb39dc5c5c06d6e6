"""Write a (de-identified) dataset as a DICOM Part 10 file, its unchanged elements copied as read.

The de-identifier leaves the elements it keeps unparsed (pydicom's raw elements, their value bytes as read),
and most of a slice's elements are kept: this writer copies their bytes behind a header it packs itself,
encodes the plain values the de-identifier changed or added (dates, UIDs, empty values, its marks) and hands
anything else to pydicom's per-element writer. pydicom's
``dcmwrite`` does the same work element by element through its general machinery (a buffer per element, the
pixel data copied twice), which was the costliest single step of an import. The bytes written are the same as
``dcmwrite(..., enforce_file_format=True)``'s; a dataset this writer does not cover (big endian, deflated, an
encoding or character set other than the one it was read in) is written by ``dcmwrite`` itself.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import dcmwrite, validate_file_meta, write_data_element, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.tag import ItemTag, SequenceDelimiterTag
from pydicom.uid import DeflatedExplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_16, EXPLICIT_VR_LENGTH_32

__all__ = ["write_part10"]

_PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF
_DELIMITER = struct.pack("<HHI", SequenceDelimiterTag.group, SequenceDelimiterTag.element, 0)
_SHORT = {vr: vr.encode("ascii") for vr in EXPLICIT_VR_LENGTH_16}
_LONG = {vr: vr.encode("ascii") + b"\x00\x00" for vr in EXPLICIT_VR_LENGTH_32}
# The VRs whose values pydicom encodes in its default character set whatever the data set's (PS3.5 6.1.2.3).
_DEFAULT_CHARSET_TEXT = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI"})
_NUMBERS = {"US": "<H", "SS": "<h", "UL": "<I", "SL": "<i", "FL": "<f", "FD": "<d"}
# The VRs pydicom encodes in the data set's character set: written here when that is ASCII's superset
# pydicom names "iso8859" (the default) or "latin_1" (ISO_IR 100) and the text is ASCII.
_TEXT = frozenset({"SH", "LO", "ST", "LT", "UC", "UT"})
_ASCII_SUPERSETS = frozenset({default_encoding, "latin_1"})
_GROUP_LENGTH = 0x00020000
_ITEM = struct.pack("<HH", ItemTag.group, ItemTag.element)


def write_part10(dataset: Dataset, file: BinaryIO) -> None:
    """Write ``dataset`` to ``file`` as ``dataset.save_as(file, enforce_file_format=True)`` would, faster.

    Parameters
    ----------
    dataset : Dataset
        A dataset read from a file, with its File Meta Information (left as it is, as dcmwrite leaves it).
    file : file-like
        Opened for binary writing.

    References
    ----------
    DICOM PS3.10 7.1 (preamble, prefix, File Meta Information), PS3.5 7.1.2 and 7.1.3 (data element
    encoding, explicit and implicit VR), 7.5 (undefined lengths and delimiters), A.4 (encapsulated pixel data).
    """
    meta = getattr(dataset, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if not _copyable(dataset, syntax):
        dcmwrite(file, dataset, enforce_file_format=True)
        return
    meta = _meta_copy(meta)  # as dcmwrite: the dataset's own File Meta is left as it is
    for meta_tag, keyword in ((0x00020002, "SOPClassUID"), (0x00020003, "SOPInstanceUID")):
        value = dataset.get(keyword)
        if meta.get(meta_tag) is None or (value and value != meta[meta_tag].value):
            meta[meta_tag] = DataElement(meta_tag, "UI", value)  # a new element: the dataset's is not touched
    validate_file_meta(meta, enforce_standard=True)
    implicit, compressed = syntax.is_implicit_VR, syntax.is_compressed
    out = DicomFileLike(file)
    out.is_implicit_VR, out.is_little_endian = implicit, True
    out.write(getattr(dataset, "preamble", None) or b"\x00" * 128)
    out.write(b"DICM")
    meta_parts = _meta_parts(meta)
    if meta_parts is None:
        write_file_meta_info(out, meta, enforce_standard=True)
    else:
        out.write(b"".join(meta_parts))
    encodings = dataset.get("SpecificCharacterSet", default_encoding)
    codecs = convert_encodings(encodings)
    for tag in sorted(dataset.keys()):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        element = dataset.get_item(tag)
        if tag == _PIXEL_DATA and not (isinstance(element, RawDataElement) and _undefined(element) == compressed):
            # As dcmwrite: the syntax decides whether the pixel data's length is undefined (PS3.5 A.4).
            element = dataset[tag]
            element.is_undefined_length = compressed
        if isinstance(element, RawDataElement):
            parts = _raw_parts(element, implicit=implicit)
        else:
            parts = _plain_parts(element, implicit=implicit, codecs=codecs)
        if parts is None:
            write_data_element(out, element, encodings)
        else:
            for part in parts:  # the value written as it is: a slice's pixel data is not copied
                out.write(part)


def _meta_copy(meta: FileMetaDataset) -> FileMetaDataset:
    """Return a File Meta holding the same elements: what the writer changes it replaces, never modifies.

    ``dcmwrite`` deep-copies it (a fifth of a slice's writing); its elements are only read here.
    """
    copied = FileMetaDataset()
    for tag in meta.keys():  # noqa: SIM118 - iterating a Dataset itself parses every element
        copied[tag] = meta.get_item(tag)
    copied.set_original_encoding(*meta.original_encoding, meta.original_character_set)
    return copied


def _copyable(dataset: Dataset, syntax) -> bool:
    """Return whether the dataset is written in the little-endian encoding and character set it was read in."""
    if syntax is None or not syntax.is_transfer_syntax or syntax.is_private or not syntax.is_little_endian:
        return False
    if syntax == DeflatedExplicitVRLittleEndian:
        return False
    if dataset.original_encoding != (syntax.is_implicit_VR, True):
        return False
    if any(tag >> 16 in (0, 2) for tag in dataset.keys()):  # noqa: SIM118 - iterating parses every element
        return False  # dcmwrite refuses them, with its reason
    preamble = getattr(dataset, "preamble", None)
    if preamble and len(preamble) != 128:
        return False
    return dataset.original_character_set == convert_encodings(dataset.get("SpecificCharacterSet") or default_encoding)


def _undefined(element: RawDataElement) -> bool:
    return element.length == _UNDEFINED


def _raw_parts(element: RawDataElement, *, implicit: bool) -> tuple[bytes, ...] | None:
    """Return an element kept as read as its header, value (and delimiter), or None to leave it to pydicom."""
    if not isinstance(element.value, bytes):
        return None
    value, undefined = element.value, _undefined(element)
    if undefined and element.tag != _PIXEL_DATA:
        return None  # a sequence or unknown-length value kept raw: pydicom knows what ends it
    header = _header(element.tag, element.VR, _UNDEFINED if undefined else len(value), implicit=implicit)
    if header is None:
        return None
    return (header, value, _DELIMITER) if undefined else (header, value)


def _meta_parts(meta) -> list[bytes] | None:
    """Return the File Meta encoded as ``write_file_meta_info`` encodes it (group length first), or None.

    None when the meta was not read in explicit VR little endian, or holds an element this writer leaves to
    pydicom: ``write_file_meta_info`` writes it then.
    """
    if meta.original_encoding != (False, True):
        return None
    body: list[bytes] = []
    for tag in sorted(meta.keys()):
        if tag == _GROUP_LENGTH:
            continue
        element = meta.get_item(tag)
        if isinstance(element, RawDataElement):
            parts = _raw_parts(element, implicit=False)
        else:
            parts = _plain_parts(element, implicit=False, codecs=[default_encoding])
        if parts is None:
            return None
        body += parts
    length = sum(len(part) for part in body)
    return [struct.pack("<HH", 0x0002, 0x0000) + b"UL" + struct.pack("<HI", 4, length), *body]


def _plain_parts(element: DataElement, *, implicit: bool, codecs: list[str]) -> tuple[bytes, ...] | None:
    """Return a changed or added element encoded as pydicom encodes it, or None to leave it to pydicom.

    Covered: empty values, bytes (the pixel data), the text VRs pydicom writes in its default character set
    (the de-identifier's dates and UIDs, its marks) and single numbers; texts in the data set's character set
    and sequences are pydicom's.
    """
    vr, value = element.VR, element.value
    if element.is_undefined_length:
        return None
    if vr == "SQ":
        values = _items(value, implicit=implicit, codecs=codecs)
        if values is None:
            return None
    elif element.is_empty:
        values: tuple[bytes, ...] = ()
    elif vr in ("OB", "OW") and isinstance(value, bytes):
        # The pixel data (parsed by the image checks, unchanged): written as it is, padded as pydicom pads it.
        values = (value, b"\x00") if len(value) % 2 else (value,)
    elif vr in _DEFAULT_CHARSET_TEXT and _texts(value):
        text = value if isinstance(value, str) else "\\".join(value)
        if len(text) % 2:
            text += "\0" if vr == "UI" else " "
        try:
            values = (text.encode(default_encoding),)
        except UnicodeEncodeError:
            return None  # pydicom's writer raises its own error
    elif vr in _TEXT and len(codecs) == 1 and codecs[0] in _ASCII_SUPERSETS and _texts(value):
        text = value if isinstance(value, str) else "\\".join(value)
        if not text.isascii():
            return None  # pydicom's encoding with the data set's character set
        values = (text.encode("ascii") + (b" " if len(text) % 2 else b""),)
    elif vr in _NUMBERS and isinstance(value, int | float):
        try:
            values = (struct.pack(_NUMBERS[vr], value),)
        except struct.error:
            return None
    else:
        return None  # dates or times as objects, texts in the data set's character set, lists of numbers…
    header = _header(element.tag, vr, sum(len(part) for part in values), implicit=implicit)
    return None if header is None else (header, *values)


def _items(items, *, implicit: bool, codecs: list[str]) -> tuple[bytes, ...] | None:
    """Return a sequence's items encoded as pydicom encodes them (each of defined length), or None.

    Only items made in memory (the de-identifier's code sequence): none of their elements read from a file
    or of an ambiguous VR, each of which pydicom would convert first.
    """
    parts: list[bytes] = []
    for item in items:
        if not isinstance(item, Dataset) or getattr(item, "is_undefined_length_sequence_item", False):
            return None
        encoded: list[bytes] = []
        item_codecs = (
            convert_encodings(item["SpecificCharacterSet"].value) if "SpecificCharacterSet" in item else codecs
        )
        for tag in sorted(item.keys()):
            element = item.get_item(tag)
            if isinstance(element, RawDataElement) or " or " in (element.VR or ""):
                return None
            if tag & 0xFFFF == 0 and tag >> 16 > 6:
                continue
            element_parts = _plain_parts(element, implicit=implicit, codecs=item_codecs)
            if element_parts is None:
                return None
            encoded += element_parts
        parts += [_ITEM + struct.pack("<I", sum(len(part) for part in encoded)), *encoded]
    return tuple(parts)


def _texts(value) -> bool:
    """Return whether a value is a text or a list of texts (not dates or times as objects)."""
    return isinstance(value, str) or (
        isinstance(value, MultiValue | list | tuple) and all(isinstance(item, str) for item in value)
    )


def _header(tag: int, vr: str | None, length: int, *, implicit: bool) -> bytes | None:
    """Return an element's tag, VR and length in little endian, or None when pydicom must decide (an odd VR)."""
    packed = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return packed + struct.pack("<I", length)
    if vr in _SHORT and length <= 0xFFFF:
        return packed + _SHORT[vr] + struct.pack("<H", length)
    if vr in _LONG:
        return packed + _LONG[vr] + struct.pack("<I", length)
    return None  # an unknown VR, or a short one too long: pydicom's writer decides (it writes UN)
