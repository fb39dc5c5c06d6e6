"""Tests for imaging.write: the same bytes as pydicom's ``dcmwrite(..., enforce_file_format=True)``."""

import copy
import io
import warnings
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, generate_uid

from imaging.deidentify import CaseKeys, deidentify
from imaging.limits import Limits, UnreadableFile
from imaging.read import read_dataset
from imaging.sources import Source
from imaging.write import write_part10

KEYS = CaseKeys(uid_secret=b"case-one-secret-0123456789abcdef", date_offset_days=-1000)
TEST_FILES = Path(pydicom.data.__file__).parent / "test_files"
BUNDLED = sorted(path for path in TEST_FILES.rglob("*") if path.is_file())


def pydicom_bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def our_bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    write_part10(dataset, buffer)
    return buffer.getvalue()


def read_each(how: str):
    """Yield (name, dataset) for every bundled file pydicom can read, prepared as ``how`` says."""
    for path in BUNDLED:
        data = path.read_bytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if how == "as pydicom reads it":
                    dataset = pydicom.dcmread(io.BytesIO(data))
                else:  # as an import does: read within the limits, then de-identified
                    dataset = read_dataset(Source(path.name, data), limits=Limits())
                    deidentify(dataset, keys=KEYS)
        except (UnreadableFile, Exception):  # noqa: BLE001 - files neither reads are not this test's
            continue
        yield path.name, dataset


@pytest.mark.parametrize("how", ["as pydicom reads it", "read and de-identified as an import does"])
def test_every_bundled_file_is_written_as_pydicom_writes_it(how):
    written = mismatched = 0
    for name, dataset in read_each(how):
        twin = copy.deepcopy(dataset)
        try:
            expected = pydicom_bytes(dataset)
        except Exception:  # noqa: BLE001 - what pydicom cannot write, ours need not either
            continue
        written += 1
        if our_bytes(twin) != expected:
            mismatched += 1
            pytest.fail(f"{name} ({how}): not the bytes dcmwrite writes")
    assert written > 80 and not mismatched  # of ~170 bundled files; the import's limits refuse some


def test_a_data_set_in_big_endian_is_written_by_pydicom():
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    dataset.SOPInstanceUID = generate_uid()
    dataset.Rows = 2
    written = our_bytes(copy.deepcopy(dataset))
    assert written == pydicom_bytes(dataset)
    assert written[128:132] == b"DICM"


def test_an_element_pydicom_refuses_is_refused():
    """A value that cannot be encoded raises what pydicom's writer raises (its re-raise of the encoding error)."""
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    dataset.SOPInstanceUID = generate_uid()
    dataset.set_original_encoding(False, True, "iso8859")
    dataset.Modality = "ÇT€"  # not in pydicom's default character set
    with pytest.raises(TypeError):
        pydicom_bytes(copy.deepcopy(dataset))
    with pytest.raises(TypeError):
        our_bytes(dataset)


def test_the_data_sets_file_meta_is_left_as_it_is():
    """As dcmwrite: the written meta follows the data set's UIDs and gains what PS3.10 requires; the data
    set's own File Meta is not changed by the writing."""
    path = TEST_FILES / "CT_small.dcm"
    dataset = read_dataset(Source(path.name, path.read_bytes()), limits=Limits())
    deidentify(dataset, keys=KEYS)
    dataset.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"  # the written meta must follow the data set's
    del dataset.file_meta.ImplementationClassUID
    before = copy.deepcopy(dataset.file_meta)
    written = pydicom.dcmread(io.BytesIO(our_bytes(dataset)))
    assert dataset.file_meta == before
    assert written.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID
    assert dataset.file_meta.MediaStorageSOPInstanceUID == "1.2.3.4"
    assert "ImplementationClassUID" in written.file_meta
