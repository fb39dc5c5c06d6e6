"""DICOM headers of the synthetic studies: UIDs, dates and times from the arguments, the planted values,
and pixel data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRLittleEndian,
)

from .common import MANUFACTURER, PLANTED, PRIVATE_CREATOR, PRIVATE_GROUP, SOFTWARE, Patient


def _uid(kind: int, *parts: object) -> str:
    """Return a UID under the planted root, fixed by its parts."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"{PLANTED['UIDRoot']}.{kind}.{int(digest[:15], 16)}"


def _day(patient: Patient, offset: int) -> str:
    """Return the study date, offset by whole days, as DA."""
    return (datetime.strptime(patient.study_date, "%Y%m%d").date() + timedelta(days=offset)).strftime("%Y%m%d")


def _clock(seconds: float) -> str:
    """Return seconds after midnight as TM with microseconds."""
    whole = int(seconds)
    micro = round((seconds - whole) * 1e6)
    return f"{whole // 3600 % 24:02d}{whole // 60 % 60:02d}{whole % 60:02d}.{micro:06d}"


def _start(patient: Patient, kind: int, offset: int, span_hours: int = 8) -> float:
    """Return a plausible start time (seconds after midnight) for a study, from 08:00 on."""
    minutes = np.random.default_rng([patient.seed, kind, offset]).integers(0, span_hours * 60)
    return 8 * 3600.0 + 60.0 * float(minutes)


@dataclass(frozen=True)
class _Study:
    """The shared identity of one study."""

    uid: str
    date: str
    time: str
    description: str
    history: str


@dataclass(frozen=True)
class _Series:
    """The shared identity of one series."""

    uid: str
    number: int
    description: str
    protocol: str
    time: str
    frame_of_reference: str | None = None


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    """Return a code sequence item."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _header(
    patient: Patient,
    study: _Study,
    series: _Series,
    *,
    sop_class: str,
    modality: str,
    instance: int,
    acquired: str,
    image_type: list[str],
    model: str,
) -> Dataset:
    """Return a dataset with the patient, study, series, equipment and request attributes filled in."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = image_type
    ds.InstanceCreationDate = study.date
    ds.InstanceCreationTime = acquired
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = _uid(3, series.uid, instance)
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study.date
    ds.StudyTime = study.time
    ds.SeriesTime = series.time
    ds.AcquisitionTime = ds.ContentTime = acquired
    ds.AccessionNumber = PLANTED["AccessionNumber"]
    ds.Modality = modality
    ds.Manufacturer = MANUFACTURER
    ds.InstitutionName = PLANTED["InstitutionName"]
    ds.ReferringPhysicianName = PLANTED["ReferringPhysicianName"]
    ds.StationName = PLANTED["StationName"]
    ds.StudyDescription = study.description
    ds.SeriesDescription = series.description
    ds.InstitutionalDepartmentName = "RADIOLOGY"
    ds.OperatorsName = PLANTED["OperatorsName"]
    ds.ManufacturerModelName = model
    _patient(ds, patient, study)
    ds.BodyPartExamined = "PELVIS"
    ds.DeviceSerialNumber = PLANTED["DeviceSerialNumber"]
    ds.SoftwareVersions = SOFTWARE
    ds.ProtocolName = series.protocol
    ds.StudyInstanceUID = study.uid
    ds.SeriesInstanceUID = series.uid
    ds.StudyID = PLANTED["StudyID"]
    ds.SeriesNumber = series.number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance
    if series.frame_of_reference:
        ds.FrameOfReferenceUID = series.frame_of_reference
        ds.PositionReferenceIndicator = ""
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    _request(ds, study)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def _patient(ds: Dataset, patient: Patient, study: _Study) -> None:
    """Write the patient's attributes, planted identifiers among them."""
    ds.PatientName = PLANTED["PatientName"]
    ds.PatientID = PLANTED["PatientID"]
    ds.PatientBirthDate = PLANTED["BirthDate"]
    ds.PatientSex = patient.sex
    other = Dataset()
    other.PatientID = PLANTED["OtherPatientID"]
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = DicomSequence([other])
    ds.PatientAge = patient.age
    ds.PatientSize = "1.78"
    ds.PatientWeight = "78"
    ds.AdditionalPatientHistory = study.history


def _request(ds: Dataset, study: _Study) -> None:
    """Write the performed procedure step, and the request with its planted accession number and physician."""
    ds.PerformedProcedureStepStartDate = study.date
    ds.PerformedProcedureStepStartTime = study.time
    ds.PerformedProcedureStepID = f"PPS{int(hashlib.sha256(study.uid.encode()).hexdigest()[:6], 16)}"
    ds.PerformedProcedureStepDescription = study.description

    issuer = Dataset()
    issuer.LocalNamespaceEntityID = PLANTED["InstitutionName"]
    request = Dataset()
    request.AccessionNumber = PLANTED["AccessionNumber"]
    request.IssuerOfAccessionNumberSequence = DicomSequence([issuer])
    request.RequestingPhysician = PLANTED["ReferringPhysicianName"]
    request.RequestedProcedureID = f"RP{ds.PerformedProcedureStepID[3:]}"
    request.RequestedProcedureDescription = study.description
    request.ScheduledProcedureStepID = f"SPS{ds.PerformedProcedureStepID[3:]}"
    request.ScheduledProcedureStepDescription = study.description
    ds.RequestAttributesSequence = DicomSequence([request])

    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", PLANTED["PrivateName"])


def _pixels(ds: Dataset, frames: npt.NDArray[np.uint16], bits_stored: int, photometric: str = "MONOCHROME2") -> None:
    """Attach unsigned 16-bit pixels (rows × columns, or frames × rows × columns) to a dataset."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = int(frames.shape[-2]), int(frames.shape[-1])
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(frames, dtype="<u2").tobytes()


def _ds_number(value: float, places: int = 4) -> str:
    """Format a decimal string (DS) value within 16 characters."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --------------------------------------------------------------------------
# CT
