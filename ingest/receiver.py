"""The DICOM receiver (``manage.py receive_dicom``): a pynetdicom storage SCP whose called AE titles route to
faculty authors (``models.ReceiverRoute``), with the site's limits, and TLS when configured.

An association is refused (A-ASSOCIATE-RJ) when its called AE title has no active route, when the receiver
already serves ``TEACHINGFILE_RECEIVER_MAX_ASSOCIATIONS`` associations, or when the route has used up its day.
Each C-STORE is de-identified in memory and stored de-identified (``received``); an object past the limit of
its association or its route's day answers "out of resources" (A700) and spoils its association: nothing it
sent lands. A released association hands its studies over; a study becomes a draft once no association is
sending it and ``TEACHINGFILE_RECEIVER_QUIET_SECONDS`` have passed. An association that ends otherwise (A-ABORT,
the socket closed) deletes what it stored. Log lines name AE titles and counts, never a value of the data.
"""

import logging
import ssl
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connections
from pydicom.pixels import get_decoder
from pydicom.uid import UID, AllTransferSyntaxes
from pynetdicom import AE, _config, evt, sop_class
from pynetdicom.association import Association

from imaging import tce

from .models import ReceiverRoute
from .received import (
    Part,
    Received,
    Study,
    part10_bytes,
    received_folder_remove,
    received_header,
    received_object_store,
    received_part_discard,
    received_study_begin,
    received_study_finish,
    receiver_day_count,
    receiver_day_exhausted,
    teaching_selection_of,
)

logger = logging.getLogger(__name__)

#: The image storage SOP classes the viewer shows (``imaging.read`` renders any object with pixel data of these),
#: and the key object that carries a teaching-file selection.
IMAGE_STORAGE = [
    sop_class.ComputedRadiographyImageStorage,
    sop_class.DigitalXRayImageStorageForPresentation,
    sop_class.DigitalXRayImageStorageForProcessing,
    sop_class.DigitalMammographyXRayImageStorageForPresentation,
    sop_class.CTImageStorage,
    sop_class.EnhancedCTImageStorage,
    sop_class.MRImageStorage,
    sop_class.EnhancedMRImageStorage,
    sop_class.NuclearMedicineImageStorage,
    sop_class.PositronEmissionTomographyImageStorage,
    sop_class.UltrasoundImageStorage,
    sop_class.UltrasoundMultiFrameImageStorage,
    sop_class.XRayAngiographicImageStorage,
    sop_class.XRayRadiofluoroscopicImageStorage,
    sop_class.SecondaryCaptureImageStorage,
    sop_class.MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    sop_class.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    sop_class.MultiFrameTrueColorSecondaryCaptureImageStorage,
    sop_class.VLPhotographicImageStorage,
]
KEY_OBJECT = sop_class.KeyObjectSelectionDocumentStorage

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
# A-ASSOCIATE-RJ (result, source, reason), PS3.8 9.3.4
CALLED_AE_UNKNOWN = (0x01, 0x01, 0x07)
LOCAL_LIMIT = (0x02, 0x03, 0x02)


def readable_transfer_syntaxes() -> list[UID]:
    """Return the transfer syntaxes whose pixel data an installed decoder reads (as ``imaging.read`` checks)."""
    readable = []
    for syntax in AllTransferSyntaxes:
        try:
            if get_decoder(syntax).is_available:
                readable.append(syntax)
        except (NotImplementedError, ValueError):
            continue
    return readable


@dataclass
class Sending:
    """One association's state: its route, bytes so far, and what it stored of each study."""

    route: ReceiverRoute
    bytes: int = 0
    spoiled: bool = False
    parts: dict[str, tuple[Study, Part]] = field(default_factory=dict)


class Receiver:
    """The storage SCP and the studies it gathers; ``start`` listens, ``flush`` turns quiet studies into drafts."""

    def __init__(self, *, host: str, port: int) -> None:
        self.address = (host, port)
        self.lock = threading.Lock()
        self.sending: dict[Association, Sending] = {}
        self.studies: dict[tuple[int, str], Study] = {}
        # A received data set stays in memory: the chunked mode would write the original bytes to a temporary file.
        _config.STORE_RECV_CHUNKED_DATASET = False
        self.ae = AE()
        self.ae.require_called_aet = False  # checked against the routes in ``_requested``
        # pynetdicom's own count includes ended associations whose threads linger: a backstop above ours
        self.ae.maximum_associations = 2 * settings.TEACHINGFILE_RECEIVER_MAX_ASSOCIATIONS + 1
        syntaxes = readable_transfer_syntaxes()
        for storage in [*IMAGE_STORAGE, KEY_OBJECT]:
            self.ae.add_supported_context(storage, syntaxes)
        self.ae.add_supported_context(sop_class.Verification)
        self.server = None

    def start(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        handlers = [
            (evt.EVT_REQUESTED, self._requested),
            (evt.EVT_C_ECHO, lambda event: SUCCESS),
            (evt.EVT_C_STORE, self._store),
            (evt.EVT_RELEASED, self._released),
            (evt.EVT_ABORTED, self._ended),
            (evt.EVT_CONN_CLOSE, self._ended),
        ]
        self.server = self.ae.start_server(self.address, block=False, evt_handlers=handlers, ssl_context=ssl_context)
        self.address = self.server.server_address[:2]

    def stop(self) -> None:
        """Stop listening (open associations are aborted and land nothing); turn released studies into drafts."""
        if self.server is not None:
            self.server.shutdown()
        self.flush(quiet=0)

    def _requested(self, event) -> None:
        """Refuse an association to an unknown AE title, past the associations at once, or past the day's limit."""
        try:
            self._admit(event.assoc)
        except Exception as error:  # noqa: BLE001 - the database unreachable or locked: refuse rather than guess
            logger.warning(
                "The DICOM receiver refused an association: its route could not be read (%s)", type(error).__name__
            )
            event.assoc.acse.send_reject(*LOCAL_LIMIT)
            event.assoc.kill()

    def _admit(self, assoc: Association) -> None:
        close_old_connections()
        called = assoc.requestor.primitive.called_ae_title.strip()
        route = ReceiverRoute.objects.active().filter(ae_title=called).first()
        reason, code = None, LOCAL_LIMIT
        if route is None:
            reason, code = "no active route has this called AE title", CALLED_AE_UNKNOWN
        elif receiver_day_exhausted(route_id=route.pk):
            reason = f"AE title {route.ae_title} has used up today's limit"
        else:
            with self.lock:  # counted and taken at once: those accepted and not yet ended
                if len(self.sending) >= settings.TEACHINGFILE_RECEIVER_MAX_ASSOCIATIONS:
                    reason = "too many associations at once"
                else:
                    self.sending[assoc] = Sending(route=route)
        if reason is not None:
            logger.warning("The DICOM receiver refused an association: %s", reason)
            assoc.acse.send_reject(*code)
            assoc.kill()  # as pynetdicom's own rejections do: the rejection is sent before the socket closes

    def _store(self, event) -> int:
        """De-identify and store one object; answer its status."""
        sending = self.sending.get(event.assoc)
        if sending is None:
            return OUT_OF_RESOURCES
        data = part10_bytes(file_meta=event.file_meta, data_set=event.request.DataSet.getvalue())
        if not self._within_limits(sending, len(data)):
            return OUT_OF_RESOURCES
        received = received_header(data)
        if received is None:
            logger.warning("The DICOM receiver refused an object: its header could not be read")
            return CANNOT_UNDERSTAND
        study, part = self._part_of(sending, received)
        if received.sop_class == tce.KEY_OBJECT_SELECTION:
            selection = teaching_selection_of(data)
            if selection is None:
                logger.info("The DICOM receiver set aside a key object that is no teaching-file selection")
            else:
                part.selection = selection
            return SUCCESS
        refused = received_object_store(study=study, part=part, received=received, data=data)
        return CANNOT_UNDERSTAND if refused else SUCCESS

    def _within_limits(self, sending: Sending, size: int) -> bool:
        """Count an object against its association's and its route's limits; spoil the association past them."""
        sending.bytes += size
        reason = None
        if sending.spoiled:
            return False
        if sending.bytes > settings.TEACHINGFILE_RECEIVER_MAX_ASSOCIATION_BYTES:
            reason = "the association passed its byte limit"
        elif not receiver_day_count(route_id=sending.route.pk, size=size):
            reason = f"AE title {sending.route.ae_title} passed today's limit"
        if reason is None:
            return True
        logger.warning("The DICOM receiver refused an object (%s): nothing of its association is kept", reason)
        sending.spoiled = True
        return False

    def _part_of(self, sending: Sending, received: Received) -> tuple[Study, Part]:
        """Return the study of this object (begun by this association or another) and this association's part."""
        if received.study_uid in sending.parts:
            return sending.parts[received.study_uid]
        key = (sending.route.pk, received.study_uid)
        with self.lock:
            study = self.studies.get(key)
            if study is None:  # where it goes is read once, when its first object arrives
                study = self.studies[key] = received_study_begin(route_id=sending.route.pk)
            study.senders += 1
        sending.parts[received.study_uid] = (study, Part())
        return sending.parts[received.study_uid]

    def _released(self, event) -> None:
        """Hand the association's studies over: each becomes a draft once quiet (or at once, with no quiet period)."""
        with self.lock:
            sending = self.sending.pop(event.assoc, None)
        if sending is None:
            return
        self._close(sending, keep=not sending.spoiled)
        if sending.spoiled:
            logger.warning("The DICOM receiver discarded an association refused for a limit")
        if settings.TEACHINGFILE_RECEIVER_QUIET_SECONDS <= 0:
            self.flush(quiet=0)
        connections.close_all()  # this association's thread ends here; so does its database connection

    def _ended(self, event) -> None:
        """An association that ended without a release (A-ABORT, socket closed): delete what it stored."""
        with self.lock:
            sending = self.sending.pop(event.assoc, None)
        if sending is None:
            return
        stored = sum(len(part.stored) for _, part in sending.parts.values())
        self._close(sending, keep=False)
        logger.warning("A DICOM association ended without a release: its %s stored objects were deleted", stored)
        connections.close_all()

    def _close(self, sending: Sending, *, keep: bool) -> None:
        now = time.monotonic()
        for study, part in sending.parts.values():
            if not keep:
                received_part_discard(part)
            with self.lock:
                study.senders -= 1
                if keep:
                    study.released.append(part)
                study.quiet_since = now
                forgotten = study.senders == 0 and not study.released
                if forgotten:
                    self._forget(study)
            if forgotten:
                received_folder_remove(study)

    def _forget(self, study: Study) -> None:
        for key, known in list(self.studies.items()):
            if known is study:
                del self.studies[key]

    def flush(self, *, quiet: float | None = None) -> int:
        """Turn every study no association is sending, quiet for ``quiet`` seconds, into a draft; return how many."""
        quiet = settings.TEACHINGFILE_RECEIVER_QUIET_SECONDS if quiet is None else quiet
        now = time.monotonic()
        with self.lock:
            studies = self.studies.values()
            ready = [study for study in studies if study.senders == 0 and now - study.quiet_since >= quiet]
            for study in ready:
                self._forget(study)
        for study in ready:
            close_old_connections()
            try:
                received_study_finish(study=study)
            except Exception:
                logger.exception("The DICOM receiver could not make a draft of a received study")
        return len(ready)


def tls_context() -> ssl.SSLContext | None:
    """Return the server's TLS context from the settings, or None when no certificate is configured."""
    if not settings.TEACHINGFILE_RECEIVER_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.TEACHINGFILE_RECEIVER_TLS_CERT, settings.TEACHINGFILE_RECEIVER_TLS_KEY or None)
    if settings.TEACHINGFILE_RECEIVER_TLS_CA:
        context.load_verify_locations(settings.TEACHINGFILE_RECEIVER_TLS_CA)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
