"""The case domain: topics (diagnosis articles), cases shown as unknowns and revealed, their stages and images
with annotations, reveals, the editorial workflow and revisions of published cases, and the authoring screen
(``admin/``) where faculty and editors write them.

It owns the models (``models/``), the reads (QuerySets and ``selectors``), the writes (``services``,
``masking``, ``checks``), the viewer-values store (``values``), and the readers' pages (``views``). DICOM
import is the ``ingest`` app's; the DICOM work itself the ``imaging`` package's.
"""
