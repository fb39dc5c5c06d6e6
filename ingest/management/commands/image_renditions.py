import io

import pydicom
from django.core.management.base import BaseCommand

from cases import renditions
from cases.models import Image
from ingest.frames import FrameLabels


class Command(BaseCommand):
    help = (
        "Give images imported before these existed their case-page rendition and, from their stored DICOM "
        "header, their orientation, NM view and time after injection. Idempotent; load_demo runs it."
    )

    def handle(self, *args, **options):
        labelled = 0
        unlabelled = Image.objects.exclude(dicom_file="").filter(orientation=[], view="", time_after_injection=None)
        headers: dict[str, pydicom.Dataset] = {}
        for image in unlabelled.order_by("pk"):
            name = image.dicom_file.name
            if name not in headers:
                with image.dicom_file.open("rb") as handle:
                    headers[name] = pydicom.dcmread(io.BytesIO(handle.read()), stop_before_pixels=True)
            fields = FrameLabels.of(headers[name], frame_index=image.frame_number - 1).image_fields()
            for key, value in fields.items():
                setattr(image, key, value)
            if image.orientation or image.view or image.time_after_injection is not None:
                image.save(update_fields=["orientation", "view", "time_after_injection"])
                labelled += 1
        made = renditions.images_medium_fill(Image.objects.all())
        self.stdout.write(f"{labelled} images labelled from their DICOM header, {made} renditions made")
