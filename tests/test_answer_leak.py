"""Invariant 1: the answer does not leak before the reveal.

For every hidden field of every demo case, and for anonymous visitors, residents
and faculty who did not author the case, no pre-reveal response contains its
text; the reveal response then contains all of it.
"""

import html
import json
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from cases.markdown import render_markdown
from cases.models import Annotation, Case, Gate, Image, Modality, Series
from quizzes.models import Attempt, Question, Quiz

DEMO_NUMBERS = ["tf101", "tf102", "tf103"]
ROLES = ["anonymous", "resident", "other_faculty"]


def plain_text(markup: str) -> str:
    """Return the text of HTML and of its attributes (alt, title, meta content, data-*), lower-cased."""
    attributes = " ".join(re.findall(r'=\s*"([^"]*)"', markup))
    without_tags = re.sub(r"<[^>]+>", " ", markup)
    return re.sub(r"\s+", " ", html.unescape(f"{without_tags} {attributes}")).strip().lower()


def chunks(text: str, *, markdown: bool = False) -> list[str]:
    """Split a hidden text into the pieces a page would show: lines, or list items of rendered Markdown."""
    rendered = render_markdown(text) if markdown else html.escape(text)
    pieces = re.split(r"</?(?:p|li|h\d|tr|td|th|br)[^>]*>|\n", rendered)
    # Short pieces ("Type", "Time" in a table) are ordinary words, not the answer.
    return [piece for piece in (plain_text(part) for part in pieces) if len(piece) >= 12]


def public_text() -> str:
    """What every reader may see of the published cases: titles, histories and presented stages."""
    parts = []
    for case in Case.objects.published().prefetch_related("series"):
        parts += [case.number, case.title, case.brief_history, case.get_region_display()]
        parts += [
            f"{series.label} {series.technique} {series.caption}"
            for series in case.series.all()
            if not series.after_reveal
        ]
    return " ".join(parts).lower()


def hidden_texts(case: Case) -> dict[str, list[str]]:
    """Every hidden field of a case, as the chunks that must not appear before the reveal."""
    public = public_text()
    texts = {
        "diagnosis": [case.diagnosis.lower()],
        "full_history": chunks(case.full_history, markdown=True),
        "discussion": chunks(case.discussion, markdown=True),
        "management": chunks(case.management, markdown=True),
        "rehabilitation": chunks(case.rehabilitation, markdown=True),
        "teaching_points": chunks(case.teaching_points, markdown=True),
        # A keyword that is also public (a region, a modality) is no secret.
        "keywords": [keyword.lower() for keyword in case.keyword_list if keyword.lower() not in public],
        "findings": [piece for finding in case.findings.all() for piece in chunks(finding.text)],
        "differential": [
            piece for entry in case.differential.all() for piece in chunks(entry.diagnosis) + chunks(entry.reasoning)
        ],
        "references": [piece for reference in case.references.all() for piece in chunks(reference.citation)],
    }
    if case.topic:
        texts["topic"] = [case.topic.name.lower()]
    for annotation in Annotation.objects.filter(image__series__case=case, after_reveal=True):
        texts[f"annotation {annotation.pk}"] = chunks(annotation.label)
    for series in case.series.filter(after_reveal=True):
        texts[f"series {series.pk}"] = chunks(series.caption) + chunks(series.technique)
        for image in series.images.all():
            texts[f"image {image.pk}"] = chunks(image.caption) + chunks(image.alt_text)
    for gate in Gate.objects.filter(series__case=case):
        texts[f"gate {gate.pk}"] = chunks(gate.reasoning)
    return {field: pieces for field, pieces in texts.items() if pieces}


def open_text() -> str:
    """What every reader sees of the stages before any gate, in every case: the gated texts shared with it
    (a caption common to several stages) are no secret."""
    parts = []
    for series in Series.objects.open().prefetch_related("images"):
        parts += [*chunks(series.caption), *chunks(series.technique)]
        parts += [piece for image in series.images.all() for piece in chunks(image.caption) + chunks(image.alt_text)]
    return " | ".join(parts)


def gated_stages(case: Case, *, passed: int = 0) -> list[Series]:
    """The stages of a case shown before the reveal that a reader who answered its first ``passed`` gates may
    not see yet."""
    held, met = [], 0
    for series in Series.objects.presented().filter(case=case).select_related("gate").order_by("order", "pk"):
        if met > passed:
            held.append(series)
        met += hasattr(series, "gate")
    return held


def gated_texts(case: Case, *, passed: int = 0) -> dict[str, list[str]]:
    """The captions, techniques and image texts of the stages gates still hold back."""
    shared = open_text()
    texts = {}
    for series in gated_stages(case, passed=passed):
        pieces = chunks(series.caption) + chunks(series.technique)
        for image in series.images.all():
            pieces += chunks(image.caption) + chunks(image.alt_text)
        texts[f"gated stage {series.pk}"] = [piece for piece in pieces if piece not in shared]
    return {field: pieces for field, pieces in texts.items() if pieces}


def gated_file_names(case: Case, *, passed: int = 0) -> list[str]:
    """The stored names of a sample of each held stage's images (first, middle, last; all three forms)."""
    names = []
    for series in gated_stages(case, passed=passed):
        images = list(series.images.order_by("order"))
        for image in {
            image.pk: image for image in (images[:1] + images[len(images) // 2 :][:1] + images[-1:])
        }.values():
            names += [name for name in (image.file.name, image.thumbnail.name, image.medium.name) if name]
    return names


def gate_answer_data(gate: Gate) -> dict:
    """A valid answer to a gate of any kind."""
    if gate.kind == Gate.Kind.NEXT_STEP:
        return {"option": "2"}
    if gate.kind == Gate.Kind.DIFFERENTIAL:
        return {"differential_1": "osteosarcoma", "differential_2": "myositis ossificans"}
    return {"text": "my impression so far"}


def assert_gates_hold(client, case: Case, *, passed: int, shown_viewer: str, page: str) -> None:
    """Behind the gates not answered yet: no text of the held stages on the page or in the viewer data, their
    images, renditions, thumbnails and values 404; before them, every stage's files are served."""
    secrets = (case.number, gated_texts(case, passed=passed), gated_file_names(case, passed=passed))
    assert_no_hidden_text(page, secrets, case.get_absolute_url())
    assert_no_hidden_text(shown_viewer, secrets, "viewer data")
    held = gated_stages(case, passed=passed)
    viewer = json.loads(shown_viewer)
    assert not {series.pk for series in held} & {series["id"] for series in viewer["series"]}
    for name in secrets[2]:
        assert client.get(reverse("cases:media-file", args=[name])).status_code == 404, name
    for series in held:
        assert client.get(reverse("cases:series-values", args=[series.pk])).status_code == 404
        image = series.images.exclude(dicom_file="").first()
        if image is not None:
            assert client.get(reverse("cases:image-values", args=[image.pk])).status_code == 404
    for series in Series.objects.presented().filter(case=case).exclude(pk__in=[series.pk for series in held]):
        image = series.images.order_by("order").first()
        assert client.get(reverse("cases:media-file", args=[image.file.name])).status_code == 200


def work_through_gates(client, case: Case) -> None:
    """Answer a case's gates one by one, checking at each what is held back and what is sent once answered."""
    gates = list(Gate.objects.filter(series__case=case).order_by("series__order", "series__pk"))
    for passed, gate in enumerate(gates):
        page = client.get(case.get_absolute_url()).content.decode()
        viewer = client.get(reverse("cases:case-viewer-data", args=[case.number])).content.decode()
        assert_gates_hold(client, case, passed=passed, shown_viewer=viewer, page=page)
        assert f'action="{reverse("cases:gate-answer", args=[case.number, gate.pk])}"' in page
        assert "data-reveal" not in page, "the reveal form waits for the last gate"
        refused = client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "x"})
        assert refused.status_code == 400
        answered = client.post(reverse("cases:gate-answer", args=[case.number, gate.pk]), gate_answer_data(gate))
        assert answered.status_code == 302
    page = client.get(case.get_absolute_url()).content.decode()
    viewer = client.get(reverse("cases:case-viewer-data", args=[case.number])).content.decode()
    assert_gates_hold(client, case, passed=len(gates), shown_viewer=viewer, page=page)
    for series in Series.objects.presented().filter(case=case):
        assert series.caption.lower() in plain_text(page), f"{series} is on the page once its gate is answered"
        assert str(series.pk) in viewer
    assert "data-reveal" in page


def hidden_images(case: Case) -> list[Image]:
    return list(Image.objects.filter(series__case=case, series__after_reveal=True).exclude(dicom_file=""))


def hidden_file_names(case: Case) -> list[str]:
    names = []
    for series in case.series.filter(after_reveal=True):
        for image in series.images.all():
            names += [name for name in (image.file.name, image.thumbnail.name, image.medium.name) if name]
    return names


def client_for(role: str, request) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


def pre_reveal_urls(case: Case) -> list[str]:
    search_words = case.title.split()[:2]
    urls = [
        reverse("cases:home"),
        reverse("cases:case-list"),
        reverse("cases:case-list") + f"?q={case.number}",
        reverse("cases:case-list") + f"?q={'+'.join(search_words)}",
        reverse("cases:case-list") + f"?region={case.region}&difficulty={case.difficulty}",
        reverse("cases:case-done-list"),
        case.get_absolute_url(),
        reverse("cases:case-viewer", args=[case.number]),
        reverse("cases:case-viewer-data", args=[case.number]),
    ]
    urls += [reverse("cases:case-list") + f"?modality={modality}" for modality in Modality.values]
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["tf101", "tf102"])
def test_the_demo_gates_hold_their_stages_back_from_lists_and_search(number, client, resident):
    """A modality seen only behind a gate neither lists the case under its filter nor shows on its card."""
    case = Case.objects.get(number=number)
    assert gated_stages(case), "the demo case has a gate"
    client.force_login(resident)
    seen = set(Series.objects.open().filter(case=case).values_list("modality", flat=True))
    for modality in {series.modality for series in gated_stages(case)} - seen:
        listing = client.get(reverse("cases:case-list") + f"?modality={modality}").content.decode()
        assert case.get_absolute_url() not in listing, modality


def hidden(case: Case) -> tuple[str, dict[str, list[str]], list[str]]:
    """A case's number, hidden texts and hidden file names, worked out once for the pages a test reads."""
    return case.number, hidden_texts(case), hidden_file_names(case)


def assert_no_hidden_text(body: str, secrets: tuple[str, dict[str, list[str]], list[str]], url: str) -> None:
    number, texts, files = secrets
    visible = plain_text(body)
    for field, pieces in texts.items():
        for piece in pieces:
            assert piece not in visible, f"{url} shows hidden {field} of {number}: {piece!r}"
    for name in files:
        assert name not in body, f"{url} names hidden file {name}"


@pytest.mark.django_db
@override_settings(TEACHINGFILE_ANONYMOUS_BROWSING=True)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("number", DEMO_NUMBERS)
def test_hidden_fields_absent_before_reveal_and_present_after(number, role, request):
    case = Case.objects.get(number=number)
    client = client_for(role, request)
    assert hidden_texts(case)["diagnosis"], "the guard needs hidden text to look for"

    # Nothing is revealed yet, so no demo case's answer may show on any of these pages.
    demo_secrets = [hidden(any_case) for any_case in Case.objects.filter(number__in=DEMO_NUMBERS)]
    for url in pre_reveal_urls(case):
        response = client.get(url)
        assert response.status_code == 200, url
        for secrets in demo_secrets:
            assert_no_hidden_text(response.content.decode(), secrets, url)

    page = client.get(case.get_absolute_url()).content.decode()
    image_urls = re.findall(r'(?:src|href)="(/media/[^"]+)"', page)
    assert image_urls, "the case page shows its pre-reveal images"
    for image_url in image_urls:
        response = client.get(image_url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("image/")
    for name in hidden_file_names(case):
        assert client.get(reverse("cases:media-file", args=[name])).status_code == 404
    for image in hidden_images(case):
        assert client.get(reverse("cases:image-values", args=[image.pk])).status_code == 404
    for series in case.series.filter(after_reveal=True):
        assert client.get(reverse("cases:series-values", args=[series.pk])).status_code == 404
    viewer_data = client.get(reverse("cases:case-viewer-data", args=[number])).json()
    shown_marks = [
        mark for series in viewer_data["series"] for image in series["images"] for mark in image["annotations"]
    ]
    shown_series = [series["id"] for series in viewer_data["series"]]
    presented = Annotation.objects.filter(image__series__case=case, after_reveal=False, image__series__in=shown_series)
    assert len(shown_marks) == presented.count()
    work_through_gates(client, case)

    response = client.post(
        reverse("cases:case-reveal", args=[number]),
        {"committed_answer": "my committed guess"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    revealed = plain_text(response.content.decode())
    for field, pieces in hidden_texts(case).items():
        if field.startswith("annotation"):
            continue  # drawn by the viewer, checked in its data below
        for piece in pieces:
            assert piece in revealed, f"the reveal of {number} lacks {field}: {piece!r}"
    assert "my committed guess" in revealed
    for name in hidden_file_names(case):
        assert name in response.content.decode()
        assert client.get(reverse("cases:media-file", args=[name])).status_code == 200
    viewer_data = client.get(reverse("cases:case-viewer-data", args=[number])).content.decode()
    for field, pieces in hidden_texts(case).items():
        if field.startswith(("annotation", "image")):
            for piece in pieces:
                assert piece in plain_text(viewer_data), f"the viewer lacks {field} of {number} after the reveal"
    for image in Image.objects.filter(series__case=case, series__after_reveal=True):
        assert image.file.name in viewer_data, f"the viewer lacks image {image.pk} after the reveal"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES[1:])
def test_topic_page_lists_its_cases_by_choice(role, request):
    """Opening the topic is choosing to study it: its cases may be listed there."""
    case = Case.objects.get(number="tf102")
    response = client_for(role, request).get(case.topic.get_absolute_url())
    assert response.status_code == 200
    assert case.get_absolute_url() in response.content.decode()


@pytest.mark.django_db
def test_lists_show_the_diagnosis_only_to_readers_who_revealed(resident, client):
    case = Case.objects.get(number="tf103")
    client.force_login(resident)
    assert case.diagnosis.lower() not in plain_text(client.get(reverse("cases:case-list")).content.decode())
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    listing = plain_text(client.get(reverse("cases:case-list")).content.decode())
    assert case.diagnosis.lower() in listing
    other = Case.objects.get(number="tf101")
    assert other.diagnosis.lower() not in listing or other.diagnosis == case.diagnosis


def question_secrets(question: Question) -> list[str]:
    """What a question page must not hold before the question is answered."""
    secrets = [option.rationale for option in question.options.all()]
    secrets += [question.explanation] if question.explanation else []
    if question.kind == Question.Kind.CLICK:
        secrets += [f'"{question.target_x}"', f"{question.target_x:.3f}", f"slices {question.slice_from}"]
    return [secret for secret in secrets if secret]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES[1:])
def test_quiz_questions_hold_no_answer_until_answered(role, request):
    """Every question of the demo exams, page and images, before its answer: no rationale, explanation or target,
    and for a case, none of the case's hidden fields."""
    client = client_for(role, request)
    for slug in ("ho-self-assessment", "unknowns-pelvis-hips"):
        take_the_exam(client, Quiz.objects.get(slug=slug))


def take_the_exam(client, quiz: Quiz) -> None:
    client.post(reverse("quizzes:quiz-start", args=[quiz.slug]))
    attempt = Attempt.objects.get(quiz=quiz, finished_at__isnull=True, user__isnull=False)
    for question_id in attempt.question_ids:
        question = Question.objects.get(pk=question_id)
        page = client.get(attempt.get_absolute_url()).content.decode()
        assert html.escape(question.stem) in page or question.stem in html.unescape(page)
        visible = html.unescape(page)
        for secret in question_secrets(question):
            assert secret not in visible, f"{question.key} shows {secret[:40]!r} before it is answered"
        secrets = hidden(question.case) if question.case else None
        if secrets:
            assert_no_hidden_text(page, secrets, attempt.get_absolute_url())
        if question.kind == Question.Kind.CLICK:
            images = client.get(reverse("quizzes:question-images", args=[attempt.pk, question.pk])).json()
            assert all(not image["annotations"] for series in images["series"] for image in series["images"])
            assert_no_hidden_text(json.dumps(images), secrets, "question images")
        wrong = {"question": question.pk, "text": "osteosarcoma", "x": 0.99, "y": 0.99, "slice": 1}
        if question.kind == Question.Kind.SINGLE_BEST:
            shown = attempt.option_ids[str(question.pk)]
            wrong["option"] = shown.index(question.options.filter(is_correct=False).first().pk)
        client.post(reverse("quizzes:attempt-answer", args=[attempt.pk]), wrong)
    client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    results = html.unescape(client.get(reverse("quizzes:attempt-results", args=[attempt.pk])).content.decode())
    for question_id in attempt.question_ids:
        question = Question.objects.get(pk=question_id)
        assert all(option.rationale in results for option in question.options.all())
        assert question.explanation in results
