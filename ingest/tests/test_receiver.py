"""The DICOM receiver end to end, run as the site runs it (``receive_dicom`` and ``db_worker`` processes), sent to
by pynetdicom's SCU: a study becomes a de-identified draft of the routed author, and whatever goes wrong (an
unknown AE title, a limit, a peer that drops mid-study) lands nothing and leaves nothing."""

import io
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, sop_class

from cases.drafts import PLACEHOLDERS
from imaging.tests.corpus.tce import kos_dataset
from tests.processes import wait_for

from .conftest import planted_values, study_datasets

CT = sop_class.CTImageStorage
STORESCU = "/usr/bin/storescu"  # dcmtk's (the Makefile's $(DCMTK) installs it), not pynetdicom's of the same name


def association(port: int, called: str = "TF_FACULTY"):
    ae = AE(ae_title="WORKSTATION")
    ae.add_requested_context(CT, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    ae.add_requested_context(sop_class.KeyObjectSelectionDocumentStorage, ExplicitVRLittleEndian)
    ae.add_requested_context(sop_class.Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    return ae.associate("127.0.0.1", port, ae_title=called)


def send(port: int, datasets, called: str = "TF_FACULTY") -> list[int]:
    assoc = association(port, called)
    assert assoc.is_established
    statuses = [assoc.send_c_store(ds).Status for ds in datasets]
    assoc.release()
    time.sleep(0.2)  # the receiver handles the release after answering it
    return statuses


def done(receiver, drafts: int = 1):
    """A check that ``drafts`` jobs have ended and deleted what they wrote that is in no image."""

    def check():
        state = receiver["state"]()
        jobs = state["jobs"]
        ended = all(status in ("done", "failed") and cleaned for status, _, cleaned in jobs)
        return state if len(jobs) == drafts and ended else None

    return check


def stored_bytes(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_echo_and_a_multi_series_study_become_a_draft_of_the_routed_author_with_nothing_identifying_stored(receiver):
    assoc = association(receiver["port"])
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0x0000
    assoc.release()

    assert send(receiver["port"], study_datasets(series=(3, 2))) == [0x0000] * 5
    state = wait_for(done(receiver), "the draft to be rendered")

    [case] = state["cases"]
    assert case["status"] == "draft" and case["authors"] == ["faculty"]
    assert case["title"] == PLACEHOLDERS["title"], "the placeholder the workflow refuses until it is written"
    assert [stage[:3] for stage in case["stages"]] == [["CT", False, 3], ["CT", False, 2]], "labelled, unconfirmed"
    assert state["jobs"][0][0] == "done" and state["jobs"][0][1]["imported"] == 5
    assert state["received"] == [[5, "CT", {}]]
    assert state["orphans"] == []

    env = receiver["env"]
    media = stored_bytes(Path(env["TEACHINGFILE_MEDIA_ROOT"]))
    rows = receiver["rows"]()
    logs = receiver["logs"]()
    assert len(media) > 10_000 and case["number"] in rows
    for value in planted_values():
        assert value.encode() not in media, f"{value} in a stored file"
        assert value not in rows, f"{value} in the database"
        assert value not in logs, f"{value} in a log"
    assert b"19770707" not in media and "19770707" not in rows
    assert not Path(env["TEACHINGFILE_UPLOAD_SPOOL"]).exists() or not any(
        Path(env["TEACHINGFILE_UPLOAD_SPOOL"]).iterdir()
    ), "nothing spooled"


def test_an_unknown_or_inactive_called_ae_title_is_rejected_and_logged_without_identifiers(receiver):
    for called in ("NOBODY", "TF_OFF"):
        assoc = association(receiver["port"], called)
        assert assoc.is_rejected
    assert "refused an association: no active route has this called AE title" in receiver["logs"]()
    assert receiver["state"]()["cases"] == []


def test_a_peer_that_aborts_or_drops_mid_study_lands_nothing_and_leaves_no_file(receiver):
    datasets = study_datasets(series=(3, 2))
    assoc = association(receiver["port"])
    assert [assoc.send_c_store(ds).Status for ds in datasets[:3]] == [0x0000] * 3
    assoc.abort()
    assoc = association(receiver["port"])
    assert [assoc.send_c_store(ds).Status for ds in datasets[:2]] == [0x0000] * 2
    assoc.dul.socket.close()  # the socket closed with no A-ABORT: a workstation switched off
    wait_for(lambda: receiver["logs"]().count("ended without a release") >= 2, "both ends to be seen")

    state = receiver["state"]()
    assert state["cases"] == [] and state["jobs"] == [] and state["received"] == []
    assert state["orphans"] == [] and state["folders"] == [], "no file, no folder of the half study"
    logs = receiver["logs"]()
    assert not [value for value in planted_values() if value in logs], "no identifier in the logs"


def file_size(ds) -> int:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return len(buffer.getvalue())


@pytest.fixture
def limited(receiver_env):
    """Limits small enough to reach: one association at once, two and a half objects per association, three a day."""
    size = file_size(study_datasets(series=(1,))[0])
    receiver_env["TEACHINGFILE_RECEIVER_MAX_ASSOCIATIONS"] = "1"
    receiver_env["TEACHINGFILE_RECEIVER_MAX_ASSOCIATION_BYTES"] = str(int(size * 2.5))
    receiver_env["TEACHINGFILE_RECEIVER_MAX_DAY_OBJECTS"] = "3"
    return receiver_env


def test_past_a_limit_an_association_is_rejected_or_its_objects_fail_and_nothing_of_it_lands(limited, receiver):
    port = receiver["port"]
    first = association(port)
    assert first.is_established
    assert association(port).is_rejected, "a second association at once"
    first.release()
    time.sleep(0.2)

    datasets = study_datasets(series=(3, 2))
    assert send(port, datasets) == [0x0000, 0x0000, 0xA700, 0xA700, 0xA700], "past the association's bytes"
    assert send(port, datasets[:3]) == [0x0000, 0xA700, 0xA700], "past the day's objects (two counted before)"
    assert association(port).is_rejected, "the day's limit used up"

    logs = receiver["logs"]()
    assert "too many associations at once" in logs
    assert "the association passed its byte limit" in logs
    assert "AE title TF_FACULTY passed today's limit" in logs
    assert "AE title TF_FACULTY has used up today's limit" in logs
    state = receiver["state"]()
    assert state["cases"] == [] and state["jobs"] == []
    assert state["orphans"] == [] and state["folders"] == [], "nothing of a refused association is kept"


def test_a_multi_series_study_sent_by_dcmtk_storescu_becomes_a_draft(receiver, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for number, ds in enumerate(study_datasets(series=(3, 2, 2)), start=1):
        if ds.SeriesNumber == 3:  # a screen capture: held for the author's check, as an upload's would be
            ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class.SecondaryCaptureImageStorage
        ds.save_as(folder / f"IM{number:04d}.dcm", enforce_file_format=True)
    sent = subprocess.run(
        [
            STORESCU,
            "-aet",
            "WORKSTATION",
            "-aec",
            "TF_FACULTY",
            "127.0.0.1",
            str(receiver["port"]),
            *sorted(folder.iterdir()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    state = wait_for(done(receiver), "the draft to be rendered")
    [case] = state["cases"]
    assert case["authors"] == ["faculty"]
    assert case["stages"] == [["CT", False, 3, 0], ["CT", False, 2, 0], ["CT", False, 2, 2]], "held as uploads are"
    media = stored_bytes(Path(receiver["env"]["TEACHINGFILE_MEDIA_ROOT"]))
    for value in planted_values():
        assert value.encode() not in media, f"{value} in a stored file"


def test_with_a_teaching_file_selection_only_the_flagged_images_become_the_drafts_images(receiver):
    datasets = study_datasets(series=(3, 2))
    flagged = [datasets[1], datasets[4]]
    references = [(CT, ds.SeriesInstanceUID, ds.SOPInstanceUID) for ds in flagged]
    kos = kos_dataset(
        study_uid=datasets[0].StudyInstanceUID, references=references, delays=("128717",), description="PHIKOSTEXT"
    )
    assert send(receiver["port"], [kos, *datasets]) == [0x0000] * 6

    state = wait_for(done(receiver), "the draft to be rendered")
    [case] = state["cases"]
    assert [stage[:3] for stage in case["stages"]] == [["CT", False, 1], ["CT", False, 1]]
    [[objects, modalities, selection]] = state["received"]
    assert objects == 2 and selection == {
        "flagged": 2,
        "delays": ["Delay export until confirmation of diagnosis is available"],
        "levels": [],
    }
    assert state["orphans"] == [] and state["jobs"][0][1]["imported"] == 2
    media = stored_bytes(Path(receiver["env"]["TEACHINGFILE_MEDIA_ROOT"]))
    assert b"PHIKOSTEXT" not in media and b"PHIKOSNAME" not in media, "the key object itself is not stored"


@pytest.fixture
def tls(receiver_env, tmp_path):
    """A self-signed certificate for the receiver (the SCU trusts it as its CA)."""
    cert, key = tmp_path / "receiver.pem", tmp_path / "receiver.key"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
    )
    assert made.returncode == 0, made.stderr
    receiver_env["TEACHINGFILE_RECEIVER_TLS_CERT"] = str(cert)
    receiver_env["TEACHINGFILE_RECEIVER_TLS_KEY"] = str(key)
    return cert


def test_with_tls_configured_a_study_arrives_over_tls_and_a_plain_association_is_not_served(tls, receiver):
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls))
    ae = AE(ae_title="WORKSTATION")
    ae.add_requested_context(CT, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    assoc = ae.associate("127.0.0.1", receiver["port"], ae_title="TF_FACULTY", tls_args=(context, "127.0.0.1"))
    assert assoc.is_established
    assert [assoc.send_c_store(ds).Status for ds in study_datasets(series=(2,))] == [0x0000] * 2
    assoc.release()
    state = wait_for(done(receiver), "the draft to be rendered")
    assert [stage[:3] for stage in state["cases"][0]["stages"]] == [["CT", False, 2]]
    assert not association(receiver["port"]).is_established, "no association without TLS"


@pytest.fixture
def quiet(receiver_env):
    receiver_env["TEACHINGFILE_RECEIVER_QUIET_SECONDS"] = "2"
    return receiver_env


def test_a_study_sent_one_series_per_association_becomes_one_draft_once_quiet(quiet, receiver):
    datasets = study_datasets(series=(2, 2))
    assert send(receiver["port"], datasets[:2]) == [0x0000] * 2
    assert send(receiver["port"], datasets[2:]) == [0x0000] * 2
    state = wait_for(done(receiver), "the draft to be rendered")
    [case] = state["cases"]
    assert [stage[:3] for stage in case["stages"]] == [["CT", False, 2], ["CT", False, 2]], "one draft, two stages"
