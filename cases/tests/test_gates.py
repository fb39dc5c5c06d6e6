"""Gates of a staged work-up: what a reader is sent before and after answering, and what is refused."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import GATE_TEXT_LIMIT, Gate, GateAnswer, Series
from cases.tests.factories import make_case, make_gate, make_image, make_series

pytestmark = pytest.mark.django_db

NEXT_STEP_OPTIONS = "MRI of the hip\n*CT of the pelvis\nBone scan"


@pytest.fixture
def work_up():
    """A case of three stages: a radiograph, a gate ("what next?"), a CT, a gate (impression), an MRI."""
    case = make_case()
    stages = [
        make_series(case=case, caption="First stage radiograph caption", order=1),
        make_series(case=case, caption="Second stage computed tomography caption", modality="CT", order=2),
        make_series(case=case, caption="Third stage magnetic resonance caption", modality="MR", order=3),
    ]
    images = [make_image(series=series, alt_text=f"Alt text of stage {n}") for n, series in enumerate(stages, 1)]
    gates = [
        make_gate(series=stages[0], kind=Gate.Kind.NEXT_STEP, options=NEXT_STEP_OPTIONS, reasoning="Why CT next."),
        make_gate(series=stages[1], reasoning="Why MRI after the CT."),
    ]
    return case, stages, images, gates


def page(client: Client, case) -> str:
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def answer(client: Client, case, gate: Gate, data: dict, **headers):
    return client.post(reverse("cases:gate-answer", args=[case.number, gate.pk]), data, **headers)


def test_a_reader_sees_the_stages_up_to_the_first_gate_and_its_question(client, resident, work_up):
    case, stages, images, gates = work_up
    client.force_login(resident)
    body = page(client, case)
    assert "First stage radiograph caption" in body
    assert "Second stage" not in body and "Third stage" not in body
    assert "CT of the pelvis" in body and "MRI of the hip" in body  # the options, without the author's mark
    assert "*CT" not in body and "Why CT next" not in body
    assert "data-reveal" not in body
    media = reverse("cases:media-file", args=[images[1].file.name])
    assert client.get(media).status_code == 404
    assert client.get(reverse("cases:media-file", args=[images[1].thumbnail.name])).status_code == 404
    viewer = client.get(reverse("cases:case-viewer-data", args=[case.number])).json()
    assert [series["id"] for series in viewer["series"]] == [stages[0].pk]


def test_answering_each_gate_sends_the_next_stage_then_the_reveal_shows_answers_beside_reasoning(
    client, resident, work_up
):
    case, stages, images, gates = work_up
    client.force_login(resident)
    response = answer(client, case, gates[0], {"option": "1"})
    assert response.status_code == 302 and response["Location"].endswith(f"#stage-{stages[1].pk}")
    body = page(client, case)
    assert "Second stage computed tomography caption" in body and "Third stage" not in body
    assert "MRI of the hip" in body  # their answer so far
    assert client.get(reverse("cases:media-file", args=[images[1].file.name])).status_code == 200
    assert client.get(reverse("cases:media-file", args=[images[2].file.name])).status_code == 404
    answer(client, case, gates[1], {"text": "New bone around the hip"})
    body = page(client, case)
    assert "Third stage magnetic resonance caption" in body and "data-reveal" in body
    assert "Why CT next" not in body and "Why MRI" not in body
    revealed = client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"}, follow=True)
    text = revealed.content.decode()
    assert "Why CT next." in text and "Why MRI after the CT." in text
    assert "MRI of the hip" in text and "Not the author's choice" in text and "CT of the pelvis" in text
    assert "New bone around the hip" in text


def test_the_first_answer_is_kept(client, resident, work_up):
    case, _, _, gates = work_up
    client.force_login(resident)
    answer(client, case, gates[0], {"option": "2"})
    again = answer(client, case, gates[0], {"option": "1"})
    assert again.status_code == 400 and "first answer is kept" in again.content.decode()
    kept = GateAnswer.objects.get(gate=gates[0], user=resident)
    assert (kept.text, kept.chose_authors_option) == ("CT of the pelvis", True)


def test_a_gate_not_reached_yet_or_of_another_case_is_refused_with_a_message_and_a_log_line(
    client, resident, work_up, caplog
):
    case, _, _, gates = work_up
    other_case, *_ = [make_case()]
    other_gate = make_gate(series=make_series(case=other_case))
    client.force_login(resident)
    with caplog.at_level(logging.INFO, logger="cases.views"):
        ahead = answer(client, case, gates[1], {"text": "jumping ahead"})
        elsewhere = answer(client, case, other_gate, {"text": "another case's gate"})
    for response in (ahead, elsewhere):
        assert response.status_code == 400
        assert "not the next one" in response.content.decode()
    assert sum("Refused an answer to gate" in record.message for record in caplog.records) == 2
    assert not GateAnswer.objects.exists()


def test_bad_answers_are_refused_by_name_and_nothing_is_kept(client, resident, work_up, caplog):
    case, _, _, gates = work_up
    client.force_login(resident)
    with caplog.at_level(logging.INFO, logger="cases.views"):
        responses = [
            answer(client, case, gates[0], {}, HTTP_X_REQUESTED_WITH="fetch"),
            answer(client, case, gates[0], {"option": "9"}),
        ]
    assert "Choose what you would do next" in responses[0].content.decode()
    assert responses[1].status_code == 400
    answer(client, case, gates[0], {"option": "2"})
    too_long = answer(client, case, gates[1], {"text": "x" * (GATE_TEXT_LIMIT + 1)})
    assert too_long.status_code == 400 and "too long" in too_long.content.decode()
    blank = answer(client, case, gates[1], {"text": "   "})
    assert blank.status_code == 400 and "Write your impression" in blank.content.decode()
    assert GateAnswer.objects.count() == 1
    assert sum("Refused an answer to gate" in record.message for record in caplog.records) >= 2


def test_a_differential_gate_marks_its_entries_after_the_reveal(client, resident):
    case = make_case(diagnosis="Heterotopic ossification")
    first = make_series(case=case)
    make_image(series=first)
    make_image(series=make_series(case=case))
    gate = make_gate(series=first, kind=Gate.Kind.DIFFERENTIAL, reasoning="Think of bone forming outside bone.")
    client.force_login(resident)
    response = answer(client, case, gate, {"differential_1": "heterotopic ossification", "differential_2": "gout"})
    assert response.status_code == 302
    assert GateAnswer.objects.get().differential == ["heterotopic ossification", "gout"]
    text = client.post(reverse("cases:case-reveal", args=[case.number]), follow=True).content.decode()
    assert "the diagnosis" in text and "not listed" in text


def test_the_fetch_answer_names_the_page_to_load_at_the_first_stage_it_brought(client, resident):
    case = make_case()
    stages = [make_series(case=case, order=order) for order in range(4)]
    make_gate(series=stages[0])
    make_gate(series=stages[3])
    client.force_login(resident)
    data = {"text": "so far"}
    response = answer(client, case, stages[0].gate, data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.json() == {"url": f"{case.get_absolute_url()}#stage-{stages[1].pk}"}
    response = answer(client, case, stages[3].gate, data, HTTP_X_REQUESTED_WITH="fetch")
    assert response.json() == {"url": f"{case.get_absolute_url()}#answer-slot"}


def test_an_anonymous_reader_answers_in_their_session(client, settings, work_up):
    settings.TEACHINGFILE_ANONYMOUS_BROWSING = True
    case, _, images, gates = work_up
    case.access = case.Access.PUBLIC
    case.save()
    assert client.get(reverse("cases:media-file", args=[images[1].file.name])).status_code == 404
    answer(client, case, gates[0], {"option": "1"})
    assert GateAnswer.objects.get().session_key == client.session.session_key
    assert "Second stage computed tomography caption" in page(client, case)
    assert Client().get(reverse("cases:media-file", args=[images[1].file.name])).status_code == 404


def test_the_case_body_is_cached_per_gates_passed(client, resident, django_user_model, work_up):
    case, _, _, gates = work_up
    other = Client()
    other.force_login(django_user_model.objects.get(username="resident"))
    client.force_login(resident)
    assert "Second stage" not in page(other, case)  # cached for a reader who passed no gate
    answer(client, case, gates[0], {"option": "1"})
    assert "Second stage computed tomography caption" in page(client, case)
    assert "Second stage" not in page(other, case)


def test_authors_and_editors_fetch_the_files_but_work_through_the_page_like_readers(client, editor, work_up):
    case, stages, images, gates = work_up
    client.force_login(editor)
    assert client.get(reverse("cases:media-file", args=[images[2].file.name])).status_code == 200
    assert client.get(reverse("cases:series-values", args=[stages[2].pk])).status_code == 200
    assert "Second stage" not in page(client, case)
    preview = client.get(case.get_absolute_url() + "?preview=resident").content.decode()
    assert "Second stage" not in preview and " disabled>Answer and go on" in preview


def test_stages_after_a_gate_leave_lists_and_quizzes(work_up):
    case, stages, _, _ = work_up
    assert list(Series.objects.open().filter(case=case)) == [stages[0]]
    from cases.selectors import presented_viewer_data

    assert [series["id"] for series in presented_viewer_data(case)["series"]] == [stages[0].pk]


def stage_with_gate(case, **gate) -> dict:
    """The stage editor's form for a new stage of ``case`` with a gate after it."""
    from cases.tests.test_admin import series_form_data

    data = series_form_data(case) | {"gate-TOTAL_FORMS": 1, "gate-INITIAL_FORMS": 0}
    return data | {f"gate-0-{name}": value for name, value in gate.items()}


def test_an_author_puts_a_gate_after_a_stage_in_the_authoring_screen(client, faculty):
    case = make_case(authors=[faculty], status="draft")
    client.force_login(faculty)
    data = stage_with_gate(case, kind="next_step", question="", options="MRI\n*CT", reasoning="Why CT: the cortex.")
    response = client.post(reverse("admin:cases_series_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    gate = Gate.objects.get(series__case=case)
    assert (gate.author_choices, gate.prompt) == (["CT"], "What would you do next?")
    card = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert "Gate after this stage: What would you do next?" in card


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"kind": "next_step", "options": "MRI\nCT", "reasoning": "Why."}, "mark your choice"),
        ({"kind": "next_step", "options": "*CT", "reasoning": "Why."}, "at least two options"),
        ({"kind": "impression", "options": "", "reasoning": "", "question": "So far?"}, "This field is required"),
    ],
)
def test_a_gate_without_its_choices_or_reasoning_is_refused_by_name(client, faculty, gate, message):
    case = make_case(authors=[faculty], status="draft")
    client.force_login(faculty)
    response = client.post(reverse("admin:cases_series_add"), stage_with_gate(case, **{"question": ""} | gate))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Series.objects.filter(case=case).exists()


def test_no_gate_after_a_stage_shown_only_after_the_reveal(client, faculty):
    case = make_case(authors=[faculty], status="draft")
    client.force_login(faculty)
    data = stage_with_gate(case, kind="impression", question="", options="", reasoning="Why.") | {"after_reveal": "on"}
    response = client.post(reverse("admin:cases_series_add"), data)
    assert response.status_code == 200 and "shown only after the reveal" in response.content.decode()


def test_no_gate_before_a_stage_a_quiz_question_shows(client, faculty):
    """A click question on the CT would send residents the CT before they answer a gate put after the radiograph."""
    from quizzes.tests.factories import make_click

    case = make_case(authors=[faculty], status="draft")
    radiograph, ct = make_series(case=case, order=1), make_series(case=case, order=2, modality="CT")
    make_image(series=ct)
    make_click(case=case, series=ct, key="click-the-ct")
    client.force_login(faculty)
    data = stage_with_gate(case, kind="impression", question="", options="", reasoning="Why.") | {"order": 1}
    response = client.post(reverse("admin:cases_series_change", args=[radiograph.pk]), data)
    assert response.status_code == 200 and "click-the-ct" in response.content.decode()
    assert not Gate.objects.filter(series__case=case).exists()


def test_an_answer_without_the_csrf_token_is_refused(resident, work_up):
    case, _, _, gates = work_up
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    assert answer(client, case, gates[0], {"option": "2"}).status_code == 403
    assert not GateAnswer.objects.exists()


def card_data(case, stages: list[Series], **changed) -> dict:
    """The case form with its stage cards as stored, ``changed`` values (``series-<index>-<name>``) put over them."""
    from cases.tests.test_admin import case_form_data

    authors = list(case.authors.values_list("pk", flat=True))
    data = case_form_data(number=case.number, status=case.status, authors=authors)
    data |= {"series-TOTAL_FORMS": len(stages), "series-INITIAL_FORMS": len(stages)}
    for index, stage in enumerate(stages):
        data |= {f"series-{index}-id": stage.pk, f"series-{index}-case": case.pk, f"series-{index}-order": stage.order}
        data |= {f"series-{index}-modality": stage.modality, f"series-{index}-caption": stage.caption}
        data |= {f"series-{index}-plane": stage.plane, f"series-{index}-phase": stage.phase}
        data |= {f"series-{index}-after_reveal": "on"} if stage.after_reveal else {}
        data |= {f"series-{index}-label_confirmed": "on"} if stage.label_confirmed else {}
    data |= changed
    return {name: value for name, value in data.items() if value is not None}


@pytest.mark.parametrize("change", [{"label_confirmed": False}, {"after_reveal": True}])
def test_hiding_the_gated_stage_keeps_its_gate_in_front_of_the_stages_after_it(client, resident, work_up, change):
    """Fail closed: a gate holds back the stages after it whatever its own stage's flags say."""
    case, stages, images, gates = work_up
    Series.objects.filter(pk=stages[0].pk).update(**change)
    client.force_login(resident)
    body = page(client, case)
    assert "Second stage" not in body and "Third stage" not in body
    assert f'id="gate-{gates[0].pk}"' in body and "data-reveal" not in body
    assert client.get(reverse("cases:media-file", args=[images[1].file.name])).status_code == 404
    viewer = client.get(reverse("cases:case-viewer-data", args=[case.number])).json()
    assert viewer["series"] == []
    assert not Series.objects.open().filter(case=case).exists()
    assert client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"}).status_code == 400
    response = answer(client, case, gates[0], {"option": "2"})
    assert response.status_code == 302 and response["Location"].endswith(f"#stage-{stages[1].pk}")
    assert "Second stage computed tomography caption" in page(client, case)


def test_the_stage_cards_refuse_showing_a_gated_stage_after_the_reveal(client, editor, work_up):
    case, stages, _, _ = work_up
    client.force_login(editor)
    data = card_data(case, stages, **{"series-0-after_reveal": "on"})
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 200 and "has a gate after it" in response.content.decode()
    stages[0].refresh_from_db()
    assert not stages[0].after_reveal


def test_a_gate_on_a_stage_shown_after_the_reveal_is_refused_by_the_model(work_up):
    from django.core.exceptions import ValidationError

    case, stages, _, _ = work_up
    stage = make_series(case=case, order=4, after_reveal=True)
    with pytest.raises(ValidationError, match="shown only after the reveal"):
        Gate(series=stage, kind=Gate.Kind.IMPRESSION, reasoning="Why.").full_clean()
    with pytest.raises(ValidationError, match="at least two options"):
        Gate(series=stages[2], kind=Gate.Kind.NEXT_STEP, options="*", reasoning="Why.").full_clean()


def test_reordering_the_stage_cards_keeps_quiz_questions_in_front_of_the_gates(client, faculty):
    from quizzes.tests.factories import make_click

    case = make_case(authors=[faculty], status="draft")
    stages = [make_series(case=case, order=n, modality=m) for n, m in ((1, "XR"), (2, "CT"), (3, "MR"))]
    for stage in stages:
        make_image(series=stage)
    make_gate(series=stages[1], reasoning="Why MRI.")
    make_click(case=case, series=stages[0], key="click-the-radiograph")
    client.force_login(faculty)
    data = card_data(case, stages, **{"series-0-order": 4})  # the radiograph dragged last
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), data)
    assert response.status_code == 200 and "click-the-radiograph" in response.content.decode()
    stages[0].refresh_from_db()
    assert stages[0].order == 1
    data = card_data(case, stages, **{"series-2-order": 0})  # the MRI first: the radiograph still before the gate
    assert client.post(reverse("admin:cases_case_change", args=[case.pk]), data).status_code == 302
    data = stage_with_gate(case) | {"gate-TOTAL_FORMS": 0, "order": 4, "label_confirmed": "on"}
    response = client.post(reverse("admin:cases_series_change", args=[stages[0].pk]), data)  # the stage's own page
    assert response.status_code == 200 and "click-the-radiograph" in response.content.decode()


def test_the_work_up_so_far_names_no_stage_behind_an_unanswered_gate(client, resident, work_up):
    """The reader answered the CT's gate, then the author put a gate after the radiograph in front of it."""
    case, stages, _, gates = work_up
    gates[0].delete()
    client.force_login(resident)
    assert answer(client, case, gates[1], {"text": "New bone"}).status_code == 302
    make_gate(series=stages[0], question="What next, author?", reasoning="Why CT.")
    body = page(client, case)
    assert "Second stage" not in body
    assert stages[1].label not in body and "What is your impression so far?" not in body and "New bone" not in body


@pytest.mark.parametrize("first_stage", ["empty", "held"])
def test_a_case_card_thumbnail_never_comes_from_a_stage_behind_a_gate(client, resident, first_stage):
    from cases.models import Image

    case = make_case(title="Card thumbnail case")
    first = make_series(case=case, order=1)
    if first_stage == "held":
        Image.objects.filter(pk=make_image(series=first).pk).update(held_for_review=True)
    make_gate(series=first)
    hidden = make_image(series=make_series(case=case, order=2, modality="CT"))
    client.force_login(resident)
    response = client.get(reverse("cases:case-list"))
    body = response.content.decode()
    assert "Card thumbnail case" in body
    assert hidden.thumbnail.name not in body and hidden.file.name not in body


def test_an_impression_within_the_limit_as_the_browser_counts_it_is_kept(client, resident, work_up):
    case, _, _, gates = work_up
    gates[0].delete()
    client.force_login(resident)
    text = "ab\r\n" * 300 + "x" * (GATE_TEXT_LIMIT - 900)  # within the limit once CRLF counts as one
    assert answer(client, case, gates[1], {"text": text}).status_code == 302
    assert len(GateAnswer.objects.get().text) == GATE_TEXT_LIMIT


def test_an_option_is_the_authors_choice_only_if_its_own_line_is_marked(client, resident, work_up):
    case, _, _, gates = work_up
    Gate.objects.filter(pk=gates[0].pk).update(options="CT of the pelvis\n*CT of the pelvis")
    client.force_login(resident)
    assert answer(client, case, gates[0], {"option": "1"}).status_code == 302
    assert not GateAnswer.objects.get().chose_authors_option


def test_the_last_gate_says_the_diagnosis_comes_next(client, resident, work_up):
    case, _, _, gates = work_up
    client.force_login(resident)
    assert "The next stages appear once you answer" in page(client, case)
    answer(client, case, gates[0], {"option": "2"})
    Series.objects.filter(case=case, order=3).update(after_reveal=True)
    body = page(client, case)
    assert "The next stages appear" not in body and "your diagnosis comes next" in body
