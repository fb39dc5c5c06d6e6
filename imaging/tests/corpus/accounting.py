"""Generated files for the per-file accounting of an import (issue 13 §1); no real patient, nothing downloaded.

Each ``make_<what>(folder)`` writes its files into ``folder`` and returns their paths. What the import must do
with them is in each docstring.
"""

import io
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, generate_uid

ROOT = "1.2.826.0.1.3680043.10.4243."  # this corpus's own root, under the teaching file's test UID
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def dataset(*, sop_class: str, modality: str, rows: int, columns: int, name: str) -> Dataset:
    """Return an image dataset of a made-up patient (``name`` is planted so tests can look for it)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(ROOT)
    ds.StudyInstanceUID = generate_uid(ROOT)
    ds.SeriesInstanceUID = generate_uid(ROOT)
    ds.PatientName = name
    ds.PatientID = "MRN5550123"
    ds.StudyDate = ds.SeriesDate = "20230405"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PixelRepresentation = 0
    return ds


def dicom_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _write(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def _palette(ds: Dataset, *, entries: int, bits: int) -> None:
    """Give ``ds`` a red-green-blue palette of ``entries`` entries of ``bits`` bits (PS3.3 C.7.9)."""
    ramp = np.linspace(0, 2**bits - 1, entries)
    tables = (ramp, ramp[::-1], np.abs(ramp - ramp.mean()) * 2)
    descriptor = [entries if entries < 65536 else 0, 0, bits]
    dtype = np.uint16 if bits == 16 else np.uint8
    for colour, table in zip(("Red", "Green", "Blue"), tables, strict=True):
        data = np.clip(table, 0, 2**bits - 1).astype(dtype).tobytes()
        ds.add_new(f"{colour}PaletteColorLookupTableDescriptor", "US", descriptor)
        ds.add_new(f"{colour}PaletteColorLookupTableData", "OW", data + b"\0" * (len(data) % 2))


def make_palette_color(folder: Path) -> list[Path]:
    """A 16-bit PALETTE COLOR ultrasound and an 8-bit PALETTE COLOR secondary capture, both valid.

    Written in Implicit VR, as such files usually are: the palette descriptors' VR ("US or SS") is then resolved
    while reading, and pydicom keeps their converted values with a converter that cannot be pickled, which
    crashed the import with two workers. Both must be imported (and held, for burned-in text).
    """
    us = dataset(sop_class=US_IMAGE, modality="US", rows=64, columns=80, name="PALETTE^SIXTEEN")
    us.PhotometricInterpretation = "PALETTE COLOR"
    us.BitsAllocated = us.BitsStored = 16
    us.HighBit = 15
    _palette(us, entries=4096, bits=16)
    us.PixelData = (np.arange(64 * 80, dtype=np.uint16).reshape(64, 80) % 4096).tobytes()

    capture = dataset(sop_class=SECONDARY_CAPTURE, modality="OT", rows=48, columns=48, name="PALETTE^EIGHT")
    capture.PhotometricInterpretation = "PALETTE COLOR"
    capture.BitsAllocated = capture.BitsStored = 8
    capture.HighBit = 7
    _palette(capture, entries=256, bits=8)
    capture.PixelData = (np.arange(48 * 48) % 256).astype(np.uint8).tobytes()
    us.file_meta.TransferSyntaxUID = capture.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return [_write(us, folder / "us_palette16.dcm"), _write(capture, folder / "sc_palette8.dcm")]


def ct_slice(name: str = "PLAIN^CT", *, seed: int = 0) -> Dataset:
    """Return a small valid 16-bit CT slice."""
    ds = dataset(sop_class=CT_IMAGE, modality="CT", rows=32, columns=32, name=name)
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PixelData = np.random.default_rng(seed).integers(0, 2000, (32, 32), dtype=np.uint16).tobytes()
    return ds


def make_rle_wrong_segment_length(folder: Path) -> list[Path]:
    """An RLE Lossless CT slice whose only segment decodes to fewer bytes than the image needs.

    Its headers and fragments are sound, so it is read and de-identified; decoding fails. The import must call it
    "not rendered" with a reason, import the valid CT slice beside it, and create no stage for the bad one.
    """
    bad = ct_slice("RLE^BROKEN")
    bad.BitsAllocated = bad.BitsStored = 8
    bad.HighBit = 7
    bad.file_meta.TransferSyntaxUID = RLELossless
    run = bytes([127]) + b"\x10" * 128  # a literal run of 128 bytes: 1,024 are needed
    header = struct.pack("<16L", 1, 64, *([0] * 14))
    bad.PixelData = encapsulate([header + run])
    bad["PixelData"].VR = "OB"
    good = ct_slice("RLE^NEIGHBOUR", seed=1)
    return [_write(bad, folder / "rle_short_segment.dcm"), _write(good, folder / "good_ct.dcm")]


def make_duplicates(folder: Path) -> list[Path]:
    """The same CT slice three times: a file, its copy under another name, and the copy inside a zip.

    The import must make one image of it: the first file listed is imported, the others are "duplicate".
    """
    ds = ct_slice("TWICE^SAME", seed=2)
    first = _write(ds, folder / "a_original.dcm")
    copy = folder / "b_copy.dcm"
    copy.write_bytes(first.read_bytes())
    archive = folder / "c_export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("IMG0001", first.read_bytes())
    return [first, copy, archive]


def make_symbolic_links(folder: Path) -> list[Path]:
    """A folder of symbolic links beside the folder they point into, as hand-made study folders often are.

    ``store/`` holds two CT slices; ``study/`` holds links: to each slice, to ``store/`` itself, to a slice
    outside ``folder``, to nothing (broken), and to ``study/`` (a loop). Importing ``folder`` must import each
    slice once, refuse the outside and the broken link by name with a reason, and end. Importing ``study/``
    alone must refuse every link that leaves it, by name, rather than report nothing. Returns the links.
    """
    store = folder / "store"
    store.mkdir()
    outside = folder.parent / f"{folder.name}-outside"
    outside.mkdir(exist_ok=True)
    targets = [_write(ct_slice(f"LINKED^{n}", seed=10 + n), store / f"slice{n}.dcm") for n in range(2)]
    _write(ct_slice("OUTSIDE^FOLDER", seed=20), outside / "secret.dcm")
    study = folder / "study"
    study.mkdir()
    links = {
        "one.dcm": targets[0],
        "two.dcm": targets[1],
        "store-link": store,
        "outside.dcm": outside / "secret.dcm",
        "broken.dcm": folder / "gone.dcm",
        "loop": study,
    }
    paths = []
    for name, target in links.items():
        link = study / name
        os.symlink(target, link)
        paths.append(link)
    return paths


def zip_of(paths: list[Path]) -> bytes:
    """Return a zip archive holding the files under their names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in paths:
            archive.writestr(path.name, path.read_bytes())
    return buffer.getvalue()
