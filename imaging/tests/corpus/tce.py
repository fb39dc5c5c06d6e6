"""IHE TCE key objects built in code: a "For Teaching File Export" selection of instances, with its options."""

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from imaging import tce


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def kos_dataset(
    *,
    study_uid: str,
    references: list[tuple[str, str, str]],
    title: tuple[str, str, str] = ("128710", "DCM", "For Teaching File Export"),
    delays: tuple[str, ...] = (),
    description: str = "",
) -> Dataset:
    """Return a Key Object Selection document over ``references`` (SOP class, series UID, instance UID)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = tce.KEY_OBJECT_SELECTION
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "KO", "PHI^KOSNAME", "PHIKOSID"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code(*title)])
    series = {}
    for sop_class, series_uid, instance_uid in references:
        reference = Dataset()
        reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = sop_class, instance_uid
        series.setdefault(series_uid, []).append(reference)
    study = Dataset()
    study.StudyInstanceUID = study_uid
    study.ReferencedSeriesSequence = Sequence()
    for series_uid, references_of_series in series.items():
        item = Dataset()
        item.SeriesInstanceUID, item.ReferencedSOPSequence = series_uid, Sequence(references_of_series)
        study.ReferencedSeriesSequence.append(item)
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([study])
    content = []
    for delay in delays:
        item = Dataset()
        item.RelationshipType, item.ValueType = "HAS CONCEPT MOD", "CODE"
        item.ConceptNameCodeSequence = Sequence([code("113011", "DCM", "Document Title Modifier")])
        item.ConceptCodeSequence = Sequence([code(delay, "DCM", "as the device wrote it")])
        content.append(item)
    if description:
        item = Dataset()
        item.RelationshipType, item.ValueType, item.TextValue = "CONTAINS", "TEXT", description
        item.ConceptNameCodeSequence = Sequence([code("113012", "DCM", "Key Object Description")])
        content.append(item)
    for sop_class, _, instance_uid in references[:1]:  # also as an IMAGE item, as TID 2010 lists them
        item = Dataset()
        item.RelationshipType, item.ValueType = "CONTAINS", "IMAGE"
        reference = Dataset()
        reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = sop_class, instance_uid
        item.ReferencedSOPSequence = Sequence([reference])
        content.append(item)
    ds.ContentSequence = Sequence(content)
    return ds
