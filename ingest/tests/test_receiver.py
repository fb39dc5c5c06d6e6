"""The DICOM receiver end to end, run as the site runs it (``receive_dicom`` and ``db_worker`` processes), sent to
by pynetdicom's SCU: a study becomes a de-identified draft of the routed author, and whatever goes wrong (an
unknown AE title, a limit, a peer that drops mid-study) lands nothing and leaves nothing."""

from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, sop_class

from .conftest import planted_values, study_datasets, wait_for

CT = sop_class.CTImageStorage


def association(port: int, called: str = "TF_FACULTY"):
    ae = AE(ae_title="WORKSTATION")
    ae.add_requested_context(CT, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    ae.add_requested_context(sop_class.Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    return ae.associate("127.0.0.1", port, ae_title=called)


def send(port: int, datasets, called: str = "TF_FACULTY") -> list[int]:
    assoc = association(port, called)
    assert assoc.is_established
    statuses = [assoc.send_c_store(ds).Status for ds in datasets]
    assoc.release()
    return statuses


def done(receiver, drafts: int = 1):
    def check():
        state = receiver["state"]()
        jobs = state["jobs"]
        return state if len(jobs) == drafts and all(status in ("done", "failed") for status, _ in jobs) else None

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
    assert case["title"] == "Untitled case received from the PACS"
    assert [stage[:3] for stage in case["stages"]] == [["CT", False, 3], ["CT", False, 2]], "labelled, unconfirmed"
    assert state["jobs"][0][0] == "done" and state["jobs"][0][1]["imported"] == 5
    assert state["received"] == [[5, "CT", {}]]
    assert state["orphans"] == []

    env = receiver["env"]
    media = stored_bytes(Path(env["TEACHINGFILE_MEDIA_ROOT"]))
    database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    rows = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    logs = receiver["logs"]()
    assert len(media) > 10_000
    for value in planted_values():
        assert value.encode() not in media, f"{value} in a stored file"
        assert value.encode() not in rows, f"{value} in the database"
        assert value not in logs, f"{value} in a log"
    assert b"19770707" not in media and b"19770707" not in rows
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
