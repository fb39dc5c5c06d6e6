"""DICOM imaging, framework-free: read → de-identify → group → render, and masking burned-in text.

Every module holds pure functions over pydicom datasets and numpy arrays and raises its own small exceptions;
none imports Django, so a plain Python script can use them (``imaging/tests/test_package.py`` checks it).
Limits come in as arguments (``limits.Limits``), never from settings. The ``ingest`` app feeds it uploads and
saves what it returns through Django's storage API; ``cases`` renders viewer values and masks with it.
"""
