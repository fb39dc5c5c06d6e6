"""An import's report in words: each stage, what the files that were not images were, what was held — once each."""

from cases.tests.factories import make_case
from ingest.models import IngestJob
from ingest.summary import import_summary


def job_with(report: dict, status=IngestJob.Status.DONE) -> IngestJob:
    return IngestJob(case=make_case(), status=status, report=report)


def test_the_report_says_in_words_what_became_of_a_study(db):
    files = [[index, "imported", ""] for index in range(1, 65)]
    files += [
        [65, "refused", "no pixel data (Encapsulated PDF Storage)"],
        [66, "refused", "no pixel data (X-Ray Radiation Dose SR Storage)"],
        [67, "refused", "no pixel data (structured report)"],
        [68, "refused", "damaged DICOM file"],
        [69, "duplicate", "the same object as file 3"],
    ]
    report = {
        "series": [{"label": "CT · Axial", "files": 64, "images": 64, "series": 7, "held": 0}],
        "files": files,
    }
    report["series"].append({"label": "Ultrasound", "files": 1, "images": 1, "series": 8, "held": 1})
    assert import_summary(job=job_with(report), stage_numbers={7: 2, 8: 3}) == [
        "64 CT images became stage 2 (Axial).",
        "1 ultrasound image became stage 3.",
        "3 files were not images (a PDF document (a report or request), a dose report, a structured report).",
        "1 file could not be used (damaged DICOM file).",
        "1 file repeated another in the upload and was skipped.",
        "1 image held: burned-in text suspected. Check before publishing.",
    ]


def test_repeated_reasons_are_counted_not_repeated(db):
    files = [[index, "refused", "no pixel data (structured report)"] for index in range(1, 4)]
    files += [[4, "refused", "not a DICOM file"], [5, "not rendered", "could not be rendered"]]
    summary = import_summary(job=job_with({"series": [], "files": files}), stage_numbers={})
    assert summary == [
        "4 files were not images (3 × a structured report, a file that is not DICOM).",
        "1 file could not be shown as an image (could not be rendered).",
    ]


def test_a_stage_from_multi_frame_files_and_a_stage_deleted_since(db):
    report = {"series": [{"label": "MRI · T2 · Sagittal", "files": 2, "images": 40, "series": 3}], "files": []}
    assert import_summary(job=job_with(report), stage_numbers={}) == [
        "40 MRI images (from 2 files) became a stage (T2, Sagittal).",
    ]


def test_an_upload_with_nothing_in_it(db):
    assert import_summary(job=job_with({"series": [], "files": []}), stage_numbers={}) == [
        "No files were found in the upload."
    ]
