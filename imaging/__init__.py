"""DICOM ingest pipeline: read → de-identify → group → render.

Framework-free: every module holds pure functions over pydicom datasets and
numpy arrays and raises its own small exceptions; the ``cases`` services feed
it uploads and save what it returns through Django's storage API.
"""
