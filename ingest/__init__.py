"""The DICOM import pipeline: uploads and the import command turned into stages and images of a case.

It owns the import job (``models.IngestJob``), the upload spool, the background task, the DICOM receiver and the
commands (``import_study``, ``ingest_sweep``, ``db_worker`` with its lease check, ``deid_table``,
``receive_dicom``); the admin's import pages call it. The per-file work is the framework-free ``imaging``
package's; this app feeds it and saves what it returns through the storage API.

The web request only spools the upload (``upload.ingest_upload``: a private folder outside the media, never
served) and lists its candidate files by name for the author's page; the task (``run.ingest_spooled``) or
the command then runs two steps. ``clean.ingest_stage`` reads and de-identifies each file in memory and
writes only the de-identified object, under ``dicom/<job>/``; the original bytes and file names are never
stored, and the spooled upload is deleted once it is done. ``run.ingest_run`` groups those objects into
series, and ``stages`` renders every frame under ``images/<job>/`` and saves stages and images, updating the
job's progress as it goes. Both steps can spread the per-file work over worker processes (``pool``).

Everything a job writes is in its own folders (``storage``), so whatever ends up in no image can be found
and deleted: by the job when it ends, by the lease check when its process died (``watch``: a running job
keeps a heartbeat, ``lease``), and by ``ingest_sweep``.

The DICOM receiver (``receive_dicom``; ``receiver`` the network side on pynetdicom, ``received`` what becomes of
what arrives) de-identifies each received object in memory through the same ``clean`` step and stores only the
de-identified copy, in the folder of the job its study will have; a released study becomes a draft case of the
author its called AE title routes to (``models.ReceiverRoute``), or adds its stages to the draft that author
chose (``routes``), with an import job already past de-identification, which the task renders as it renders an
upload. ``views`` has the author's inbox of them and the choice of that draft.

Every candidate file ends with one outcome (``outcomes.OUTCOMES``) and a reason; the job keeps them by the
file's position in the upload, never by its name.

Modules import one way: ``pool``, ``outcomes``, ``spool``, ``storage`` → ``frames``, ``lease`` → ``clean``,
``stages`` → ``run`` → ``tasks`` → ``upload``, ``routes`` → ``received`` → ``watch``, ``receiver``.
"""
