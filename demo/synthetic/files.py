"""The study as files, as a person would upload them."""

from __future__ import annotations

import io

from pydicom.dataset import Dataset


def planted_study_files(datasets: list[Dataset]) -> dict[str, bytes]:
    """Return the datasets as DICOM files (Explicit VR Little Endian) named after the patient, as uploads arrive."""
    files: dict[str, bytes] = {}
    for index, ds in enumerate(datasets, start=1):
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        files[f"{ds.PatientName}_{ds.Modality}_{index:04d}.dcm"] = buffer.getvalue()
    return files
