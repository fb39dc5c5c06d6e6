"""Teaching-file packages in and out: a case, or a collection of cases, as an open zip, and MIRC documents in.

It owns the package format (``schema``: ``"teachingfile-case"`` version 1, documented in ``docs/packages.md``
with its JSON Schema in ``docs/package.schema.json``), the export of a case to it (``document`` writes
``case.json``, ``export`` the zip with the de-identified DICOM and the web images), and the import of a
package as a new draft (``archive`` opens an untrusted zip under limits, ``checks`` refuses what the site would
not store, ``files`` runs every DICOM object through the upload pipeline's de-identification again and
re-encodes every web image, ``importer`` saves the case in one transaction). RSNA MIRC's MIRCdocument zips
are read by ``mirc`` into the same document and saved by the same importer. The admin's pages are ``views``.

Modules import one way: ``schema`` → ``document``, ``archive``, ``checks``, ``files`` → ``export``, ``mirc``,
``importer`` → ``views``.
"""
