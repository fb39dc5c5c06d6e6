"""Reading an IHE TCE key object: the flagged instances and the coded options, by the standard's codes (checked
against PS3.16 CID 7010 and 7015 as published, not against the module's own tables)."""

from pydicom.uid import generate_uid

from imaging import tce
from imaging.tests.corpus.tce import kos_dataset

CT = "1.2.840.10008.5.1.4.1.1.2"


def test_a_teaching_file_export_selection_lists_every_referenced_instance_and_its_delay():
    study, series_a, series_b = generate_uid(), generate_uid(), generate_uid()
    references = [(CT, series_a, "1.2.3.1"), (CT, series_a, "1.2.3.2"), (CT, series_b, "1.2.3.9")]
    ds = kos_dataset(study_uid=study, references=references, delays=("128715",), description="PHI in free text")
    selection = tce.teaching_selection(ds)
    assert selection.instance_uids == {"1.2.3.1", "1.2.3.2", "1.2.3.9"}
    assert selection.delays == ("Delay export until final report is available",)
    assert "PHI" not in repr(selection), "the free-text description is not read"


def test_the_title_code_is_128710_dcm_and_no_other_key_object_counts():
    assert tce.TEACHING_FILE_EXPORT == ("128710", "DCM")
    references = [(CT, generate_uid(), "1.2.3.1")]
    of_interest = kos_dataset(study_uid=generate_uid(), references=references, title=("113000", "DCM", "Of Interest"))
    assert tce.teaching_selection(of_interest) is None
    for_teaching = kos_dataset(study_uid=generate_uid(), references=references, title=("113004", "DCM", "For Teaching"))
    assert tce.teaching_selection(for_teaching) is None, "For Teaching (113004) is not the TCE export title"
    clinical_trial = kos_dataset(
        study_uid=generate_uid(), references=references, title=("128711", "DCM", "For Clinical Trial Export")
    )
    assert tce.teaching_selection(clinical_trial) is None


def test_an_image_is_no_selection():
    ds = kos_dataset(study_uid=generate_uid(), references=[(CT, generate_uid(), "1.2.3.1")])
    ds.SOPClassUID = CT
    assert tce.teaching_selection(ds) is None


def test_every_delay_reason_of_cid_7015_is_known_by_its_published_meaning():
    published = {
        "128715": "final report",
        "128716": "clinical information",
        "128717": "confirmation of diagnosis",
        "128718": "histopathology",
        "128719": "other laboratory results",
        "128720": "patient is discharged",
        "128721": "patient dies",
        "128722": "expert review",
    }
    assert set(tce.DELAY_REASONS) == set(published)
    for code, words in published.items():
        assert tce.DELAY_REASONS[code].startswith("Delay export until ") and words in tce.DELAY_REASONS[code]
