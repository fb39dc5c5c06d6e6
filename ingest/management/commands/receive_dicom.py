import signal
import threading
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from ingest.received import receiver_sweep
from ingest.receiver import Receiver, tls_context


class Command(BaseCommand):
    help = (
        "Receive DICOM from PACS workstations (C-ECHO, C-STORE): each called AE title routes to a faculty author "
        "(Receiver routes in the authoring screen); every study is de-identified in memory and becomes a draft case "
        "in that author's inbox. Listens on TEACHINGFILE_RECEIVER_HOST:TEACHINGFILE_RECEIVER_PORT (docs/receiver.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.TEACHINGFILE_RECEIVER_HOST)
        parser.add_argument("--port", type=int, default=settings.TEACHINGFILE_RECEIVER_PORT)

    def handle(self, *args, host: str, port: int, **options):
        receiver_sweep(older_than=timedelta(minutes=0))  # a receiver killed mid-study left its folders
        receiver = Receiver(host=host, port=port)
        stopping = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stopping.set())
        context = tls_context()
        receiver.start(ssl_context=context)
        tls = " with TLS" if context else ""
        self.stdout.write(f"Receiving DICOM on {receiver.address[0]}:{receiver.address[1]}{tls}.", ending="\n")
        self.stdout.flush()
        while not stopping.wait(0.5):
            receiver.flush()
        receiver.stop()
        self.stdout.write("Stopped.")
