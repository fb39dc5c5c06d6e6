"""The receiver's storage side in one process: nothing of a received study is written but its de-identified
copy, and a killed receiver's leftovers are swept."""

import datetime
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pynetdicom import _config

from cases.models import Image
from cases.tests.factories import make_case, make_image, make_series
from ingest.models import IngestJob
from ingest.received import receiver_sweep
from ingest.receiver import IMAGE_STORAGE, Receiver, readable_transfer_syntaxes
from ingest.storage import listed, stored_folder_of


def test_received_data_sets_stay_in_memory_and_every_image_class_and_decoded_syntax_is_offered():
    receiver = Receiver(host="127.0.0.1", port=0)
    assert _config.STORE_RECV_CHUNKED_DATASET is False, "chunked receiving writes the original bytes to disk"
    offered = {context.abstract_syntax: context.transfer_syntax for context in receiver.ae.supported_contexts}
    syntaxes = readable_transfer_syntaxes()
    assert "1.2.840.10008.1.2.4.50" in syntaxes and "1.2.840.10008.1.2.5" in syntaxes  # JPEG baseline, RLE
    for storage in IMAGE_STORAGE:
        assert offered[storage] == syntaxes


@pytest.mark.django_db
def test_the_sweep_deletes_a_folder_no_job_owns_and_keeps_a_jobs_and_an_images():
    orphan, owned, imaged = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    case = make_case()
    IngestJob.objects.create(case=case, token=owned)
    for token in (orphan, owned, imaged):
        default_storage.save(f"{stored_folder_of(token)}/000001-a.dcm", ContentFile(b"de-identified"))
    image = make_image(series=make_series(case=case))
    Image.objects.filter(pk=image.pk).update(dicom_file=listed(stored_folder_of(imaged))[0])
    assert receiver_sweep(older_than=datetime.timedelta(0)) >= 1
    assert listed(stored_folder_of(orphan)) == []
    assert len(listed(stored_folder_of(owned))) == 1
    assert len(listed(stored_folder_of(imaged))) == 1, "an image's file stays though its job is gone"
