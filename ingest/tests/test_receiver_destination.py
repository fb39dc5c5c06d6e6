"""A study pushed after its author chose a draft, run as the site runs it: its stages are added to that draft
(labelled and held as an upload's, days counted from the draft's day zero); a chosen draft published or deleted
meanwhile takes nothing, and the study becomes a new draft that says so."""

import json
import time

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, sop_class

from tests.processes import wait_for

from .conftest import study_datasets
from .test_receiver import done, send

SCREEN_CAPTURE = sop_class.SecondaryCaptureImageStorage

CHOOSE = """
from cases.models import Case
from ingest.models import ReceiverRoute
from ingest.routes import route_destination_set
route = ReceiverRoute.objects.get(ae_title="TF_FACULTY")
route_destination_set(route=route, case=Case.objects.get(number="{number}"), by=route.author)
"""

WHERE = """
import json
from cases.models import Case
from ingest.models import ReceivedStudy, ReceiverRoute
route = ReceiverRoute.objects.get(ae_title="TF_FACULTY")
print(json.dumps({
    "into": [[study.case.number, study.into] for study in ReceivedStudy.objects.order_by("pk")],
    "days": {case.number: [series.study_day for series in case.series.order_by("order")]
             for case in Case.objects.all()},
    "route": [route.destination_id, route.adds_to_draft],
}))
"""


def run(receiver, code: str) -> str:
    return receiver["shell"](code)


def send_with_capture(port: int, datasets) -> list[int]:
    """Send CT and screen-capture objects in one association (``send`` offers CT only)."""
    ae = AE(ae_title="WORKSTATION")
    for storage in (sop_class.CTImageStorage, SCREEN_CAPTURE):
        ae.add_requested_context(storage, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    assoc = ae.associate("127.0.0.1", port, ae_title="TF_FACULTY")
    assert assoc.is_established
    statuses = [assoc.send_c_store(ds).Status for ds in datasets]
    assoc.release()
    time.sleep(0.2)
    return statuses


def where(receiver) -> dict:
    return json.loads(run(receiver, WHERE))


def test_a_study_pushed_after_choosing_a_draft_adds_its_stages_to_that_draft(receiver):
    port = receiver["port"]
    assert send(port, study_datasets(series=(2,), study=1)) == [0x0000] * 2
    [case] = wait_for(done(receiver), "the first draft")["cases"]
    run(receiver, CHOOSE.format(number=case["number"]))

    sent = study_datasets(series=(3, 1), study=2)
    sent[3].SOPClassUID = sent[3].file_meta.MediaStorageSOPClassUID = SCREEN_CAPTURE  # held, as an upload's is
    assert send_with_capture(port, sent) == [0x0000] * 4
    state = wait_for(done(receiver, drafts=2), "the study to be added")

    [added] = state["cases"]
    assert added["number"] == case["number"], "no new draft"
    assert added["stages"] == [["CT", False, 2, 0], ["CT", False, 3, 0], ["CT", False, 1, 1]], "labelled and held"
    assert [status for status, _, _ in state["jobs"]] == ["done", "done"]
    assert state["orphans"] == []
    found = where(receiver)
    assert found["into"] == [[case["number"], "new"], [case["number"], "chosen"]]
    assert found["days"][case["number"]] == [0, 0, 0], "the same shifted study date: the draft's day zero"
    assert "added a study to the draft its author chose" in receiver["logs"]()


def test_a_chosen_draft_published_or_deleted_meanwhile_takes_nothing_and_a_new_draft_says_so(receiver):
    port = receiver["port"]
    assert send(port, study_datasets(series=(1,), study=1)) == [0x0000]
    [first] = wait_for(done(receiver), "the first draft")["cases"]
    run(receiver, CHOOSE.format(number=first["number"]))
    run(
        receiver,
        f'from cases.models import Case; Case.objects.filter(number="{first["number"]}").update(status="published")',
    )

    assert send(port, study_datasets(series=(2,), study=2)) == [0x0000] * 2
    state = wait_for(done(receiver, drafts=2), "the fallback draft")
    assert [len(case["stages"]) for case in state["cases"]] == [1, 1], "the published case kept its one stage"
    second = state["cases"][1]["number"]
    found = where(receiver)
    assert found["into"] == [[first["number"], "new"], [second, "fallback"]]
    assert found["route"] == [None, False], "back to a new draft per study"

    run(receiver, CHOOSE.format(number=second))
    run(receiver, f'from cases.models import Case; Case.objects.filter(number="{second}").delete()')
    assert send(port, study_datasets(series=(1,), study=3)) == [0x0000]
    state = wait_for(done(receiver, drafts=2), "the second fallback draft")  # the deleted draft's job went with it
    assert [len(case["stages"]) for case in state["cases"]] == [1, 1], "the published case and a new draft"
    third = state["cases"][-1]["number"]  # the deleted draft's number is free again
    assert where(receiver)["into"] == [[first["number"], "new"], [third, "fallback"]]
    logs = receiver["logs"]()
    assert logs.count("can no longer take them: the study became a new draft") == 2
