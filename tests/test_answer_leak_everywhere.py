"""Invariant 1 beyond the case page: an unknown is an unknown everywhere.

For anonymous visitors, a fresh resident and a faculty member who did not author the demo cases, every page,
fragment and JSON answer of the ``cases``, ``quizzes`` and ``collections`` URLconfs that a reader can GET
(the demo collection's page, and each case page opened from it) is fetched while the
reader has revealed nothing, through every demo quiz question by question, a review session, and a missed
case brought back for review. No response names a hidden field (diagnosis, topic, findings…) of a case the
reader has not revealed, and no open quiz question points to its case (number or address). Images are signed for
nginx (cases/signed_media.py): every signed address a page hands out is of an image the image view's own check
lets this reader see at that moment (it answers 200). The URL names are
read from the URLconfs: a new URL the walk does not reach fails the test until it is added here.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.html import escape

from cases.models import Case, Image, Reveal, Series, Topic
from collections_app.models import Collection
from quizzes.models import Attempt, Question, Quiz, ReviewItem
from quizzes.tests.factories import make_quiz

from .test_answer_leak import (
    DEMO_NUMBERS,
    ROLES,
    client_for,
    gated_file_names,
    gated_stages,
    gated_texts,
    hidden_file_names,
    hidden_texts,
    plain_text,
)

NAMESPACES = ("cases", "quizzes", "collections")
# Routes that take POST only (a GET is refused with 405, checked below): they are not pages to read.
POST_ONLY = {
    "cases:case-reveal",
    "cases:case-assess",
    "quizzes:quiz-start",
    "quizzes:attempt-answer",
    "quizzes:attempt-finish",
    "quizzes:review-start",
    "quizzes:review-case",
    "quizzes:review-case-open",
    "collections:collection-add-case",
    "cases:finding-view-link",  # the case's editors only (404 to readers: tests/test_permissions.py)
    "cases:gate-answer",  # what it sends back is the case page, read by the walk (tests/test_answer_leak.py)
}
ANSWER_IMAGES = ("annotation", "series", "image")
SIGNED = re.compile(r"/signed-media/(images/[0-9a-f/]+\.(?:png|jpg))\?e=")
SIGNING = {"TEACHINGFILE_MEDIA_SIGNING_KEY": "leak-walk-signing-key-" + "k" * 16}
COUNT = re.compile(r"\b\d+\s+cases?\b")


@dataclass
class Reader:
    """A client, what it has come to know (its oracle, kept by the test), and the routes it fetched."""

    client: Client
    role: str
    secrets: dict[str, dict[str, list[str]]]
    files: dict[str, list[str]]
    topic_names: set[str]
    known: set[str] = field(default_factory=set)
    fetched: set[str] = field(default_factory=set)
    files_checked_for: set[tuple] = field(default_factory=set)
    signed_checked: set[tuple] = field(default_factory=set)

    def access_state(self) -> tuple:
        """What decides which files the reader may fetch: what the test knows they revealed, and what the
        server holds (their reveals, and their session's: the cases held back for review)."""
        user_id = self.client.session.get("_auth_user_id")
        reveals = Reveal.objects.filter(user_id=user_id) if user_id else Reveal.objects.none()
        session = sorted((key, repr(value)) for key, value in self.client.session.items() if key[0] != "_")
        return frozenset(self.known), frozenset(reveals.values_list("case_id", "revealed_at")), tuple(session)

    def get(self, url: str, *, expect=(200, 302), **check):
        response = self.client.get(url)
        assert response.status_code in expect, f"{self.role} {url}: {response.status_code}"
        self.fetched.add(resolve(url.split("?")[0]).view_name)
        if response.streaming:  # a stage's values: numbers, whose access is what the status code shows
            b"".join(response.streaming_content)
        else:
            self.check(response.content.decode(), url, **check)
            self.check_signed(response.content.decode(), url)
        return response

    def check_signed(self, body: str, url: str) -> None:
        """Each image signed for this reader is one the image view lets them fetch now (its check is the oracle)."""
        state = self.access_state()
        for name in set(SIGNED.findall(body)):
            if (name, state) not in self.signed_checked:
                answer = self.client.get(reverse("cases:media-file", args=[name])).status_code
                assert answer == 200, f"{self.role} {url} signs {name}, which the image view refuses ({answer})"
                self.signed_checked.add((name, state))

    def check(
        self,
        body: str,
        url: str,
        *,
        topic_free: bool = False,
        article: bool = False,
        about: str = "",
        strip=(),
        pointers=(),
    ) -> None:
        """No hidden text of a case this reader does not know; no pointer to the cases of open questions.

        ``topic_free``: a page the reader chose for its topic may name the topic. ``article``: a topic's own
        article, and a quiz on the topic alone, share its words with its cases' keywords, discussions and
        references; they must still not say which case is which (diagnoses, answer images and their words).
        A list may show what the reader revealed of a case, though its words may be another case's topic or
        keywords; a page about one unknown (``about``, or an open question's) may not.
        """
        for text in strip:
            body = body.replace(text, "")
        visible = plain_text(body)
        beside_an_unknown = bool(about or pointers)
        # What the reader has read in the cases they revealed is theirs, wherever it is shared (a disclaimer).
        vocabulary = " | ".join(
            piece for number in self.known for pieces in self.secrets[number].values() for piece in pieces
        )
        for number in set(DEMO_NUMBERS) - self.known:
            for name, pieces in self.secrets[number].items():
                if article and not name.startswith(ANSWER_IMAGES + ("diagnosis",)):
                    continue
                for piece in pieces:
                    if topic_free and piece in self.topic_names:
                        continue
                    if not beside_an_unknown and piece in vocabulary:
                        continue
                    assert piece not in visible, f"{self.role} {url} shows the {name} of {number}: {piece!r}"
            for name in self.files[number]:
                assert name not in body, f"{self.role} {url} names a hidden file of {number}"
        for number in pointers:
            assert not re.search(rf"\b{number}\b", body), f"{self.role} {url} points to {number} from an open question"


def demo_reader(role: str, request) -> Reader:
    cases = Case.objects.filter(number__in=DEMO_NUMBERS)
    return Reader(
        client=client_for(role, request),
        role=role,
        # The walk answers no gate: the stages behind a case's first gate are as hidden as its answer.
        secrets={case.number: hidden_texts(case) | gated_texts(case) for case in cases},
        files={case.number: hidden_file_names(case) + gated_file_names(case) for case in cases},
        topic_names={name.lower() for topic in Topic.objects.all() for name in [topic.name, *topic.synonym_list]},
    )


def quiz_text(quiz: Quiz) -> list[str]:
    """A quiz's own words as its pages print them (its title and description may name its topic)."""
    return [escape(quiz.title), escape(quiz.description)]


def names_a_case(quiz: Quiz) -> bool:
    return quiz.questions.filter(case__isnull=False).exists()


def first_middle_last(images: list) -> list:
    """The images of a stage the guard fetches: access is decided per stage, so three stand for a stack of 64."""
    return list({id(image): image for image in (images[:1] + images[len(images) // 2 :][:1] + images[-1:])}.values())


def read_files(reader: Reader, case: Case) -> None:
    """Fetch a case's stage values, images and image values; access follows what the reader has revealed, so
    the files are fetched again only when that (``Reader.access_state``) has changed since they were last."""
    if reader.access_state() in reader.files_checked_for:
        return
    held = {series.pk for series in gated_stages(case)}
    for series in Series.objects.filter(case=case):
        hidden = (series.after_reveal or series.pk in held) and case.number not in reader.known
        reader.get(reverse("cases:series-values", args=[series.pk]), expect=(404,) if hidden else (200, 404))
        for image in first_middle_last(list(series.images.order_by("order"))):
            expected = (404,) if hidden else (200,)
            for name in filter(None, (image.file.name, image.thumbnail.name, image.medium.name)):
                assert reader.client.get(reverse("cases:media-file", args=[name])).status_code in expected
            reader.fetched.add("cases:media-file")
            values = reverse("cases:image-values", args=[image.pk])
            assert reader.client.get(values).status_code in ((404,) if hidden else (200, 404)), values
            reader.fetched.add("cases:image-values")


def read_everything(reader: Reader, *, attempt: Attempt | None) -> None:
    """Fetch every page of the two URLconfs that does not depend on a quiz question being open."""
    topic_quizzes = [quiz for quiz in Quiz.objects.all() if not names_a_case(quiz)]
    topic_words = [text for quiz in topic_quizzes for text in quiz_text(quiz)]
    listing = reverse("cases:case-list")
    urls = [reverse("cases:home"), listing, reverse("cases:case-done-list"), listing + "?q=hip"]
    for url in urls:
        reader.get(url)
    topics = reader.get(reverse("cases:topic-list"), topic_free=True).content.decode()
    assert not COUNT.search(plain_text(topics)), f"{reader.role}: the topic list counts cases"
    # What the differential's boxes suggest: every topic's names, one list for all cases.
    reader.get(reverse("cases:topic-names"), topic_free=True)
    for topic in Topic.objects.all():
        reader.get(topic.get_absolute_url(), topic_free=True, article=True)
    for case in Case.objects.filter(number__in=DEMO_NUMBERS):
        about = "" if case.number in reader.known else case.number
        page = reader.get(case.get_absolute_url(), about=about).content.decode()
        if case.number not in reader.known:
            # Beside an unknown, not even a revealed neighbour's diagnosis: it would be a hint.
            for other in Case.objects.filter(number__in=DEMO_NUMBERS):
                assert other.diagnosis not in page, f"{reader.role}: {case.number} shows {other.number}'s diagnosis"
            reader.get(reverse("discussions:thread", args=[case.number]), expect=(302, 404))
        reader.get(reverse("cases:case-viewer", args=[case.number]), about=about)
        reader.get(reverse("cases:case-viewer-data", args=[case.number]), about=about)
        read_files(reader, case)
    reader.files_checked_for.add(reader.access_state())
    read_collections(reader)
    reader.get(reverse("quizzes:quiz-list"), strip=topic_words)
    for quiz in Quiz.objects.all():
        reader.get(quiz.get_absolute_url(), expect=(200, 302, 404), strip=topic_words)
    reader.get(reverse("quizzes:progress"), topic_free=True)
    reader.get(reverse("quizzes:review-queue"))
    if attempt is not None:  # another reader's attempt: not found, whoever asks
        reader.get(attempt.get_absolute_url(), expect=(302, 404))
        reader.get(reverse("quizzes:attempt-results", args=[attempt.pk]), expect=(302, 404))
        for question_id in attempt.question_ids:
            url = reverse("quizzes:question-images", args=[attempt.pk, question_id])
            reader.get(url, expect=(302, 404))


def read_collections(reader: Reader) -> None:
    """The collections, and each case page opened from one: a collection names no diagnosis, not even one the
    reader revealed (beside its unknowns it is a hint), and its case pages stay unknowns until their reveal."""
    reader.get(reverse("collections:collection-list"))
    diagnoses = list(Case.objects.filter(number__in=DEMO_NUMBERS).values_list("diagnosis", flat=True))
    for collection in Collection.objects.filter(is_topic=False):
        page = reader.get(collection.get_absolute_url(), expect=(200, 302, 404)).content.decode()
        assert not any(diagnosis in page for diagnosis in diagnoses), f"{reader.role}: {collection.slug} names one"
        for case in Case.objects.filter(number__in=DEMO_NUMBERS, collection_entries__collection=collection):
            about = "" if case.number in reader.known else case.number
            page = reader.get(f"{case.get_absolute_url()}?collection={collection.slug}", about=about).content.decode()
            if about:
                assert not any(diagnosis in page for diagnosis in diagnoses), f"{reader.role}: {case.number}"


def wrong_answer(attempt: Attempt, question: Question) -> dict:
    answer = {"question": question.pk, "text": "osteosarcoma", "x": 0.99, "y": 0.01, "slice": 1}
    if question.kind == Question.Kind.SINGLE_BEST:
        wrong = question.options.filter(is_correct=False).first()
        answer["option"] = attempt.option_ids[str(question.pk)].index(wrong.pk)
    return answer


def walk(reader: Reader, attempt: Attempt) -> None:
    """Take an attempt question by question, reading every page it offers before and after each answer."""
    about_topic = attempt.quiz is not None and not names_a_case(attempt.quiz)
    strip = quiz_text(attempt.quiz) if about_topic else []
    questions = [Question.objects.select_related("case").get(pk=pk) for pk in attempt.question_ids]
    exam = attempt.mode == Quiz.Mode.EXAM
    for number, question in enumerate(questions):
        # Until a question is answered (an exam: until it is finished), nothing points to its case.
        still_open = questions if exam else questions[number:]
        pointers = {q.case.number for q in still_open if q.case} - reader.known
        pointers |= {question.case.number} if question.case else set()
        check = {"topic_free": about_topic, "article": about_topic, "strip": strip, "pointers": pointers}
        page = reader.get(attempt.get_absolute_url(), expect=(200,), **check).content.decode()
        assert f"Question {number + 1} of" in page
        for image_question in questions:
            if image_question.kind in (Question.Kind.CLICK, Question.Kind.UNKNOWN_CASE):
                url = reverse("quizzes:question-images", args=[attempt.pk, image_question.pk])
                reader.get(url, expect=(200,), **check)
        reader.get(reverse("quizzes:attempt-results", args=[attempt.pk]), expect=(302,), **check)
        reader.get(reverse("quizzes:progress"), topic_free=True, pointers=pointers)
        reader.get(reverse("quizzes:review-queue"), pointers=pointers)
        response = reader.client.post(
            reverse("quizzes:attempt-answer", args=[attempt.pk]), wrong_answer(attempt, question)
        )
        assert response.status_code == 302
        if not exam:
            if question.case and question.kind != Question.Kind.CLICK:
                reader.known.add(question.case.number)  # its feedback gives the diagnosis: that is its reveal
            later = {q.case.number for q in questions[number + 1 :] if q.case} - reader.known
            feedback = {"topic_free": about_topic, "article": about_topic, "strip": strip, "pointers": later}
            reader.get(response["Location"], expect=(200,), **feedback)
    response = reader.client.post(reverse("quizzes:attempt-finish", args=[attempt.pk]))
    assert response.status_code == 302
    reader.known |= {q.case.number for q in questions if q.case and q.kind != Question.Kind.CLICK}
    # The results give every answer: the cases the quiz revealed are known now, a click's case still is not.
    results = reverse("quizzes:attempt-results", args=[attempt.pk])
    reader.get(results, expect=(200,), topic_free=about_topic, article=about_topic, strip=strip)


@pytest.mark.django_db
@override_settings(TEACHINGFILE_ANONYMOUS_BROWSING=True, **SIGNING)
@pytest.mark.parametrize("role", ROLES)
def test_no_page_fragment_or_json_names_an_unknown(role, request, editor):
    reader = demo_reader(role, request)
    someone_elses = Attempt.objects.create(user=editor, mode=Quiz.Mode.PRACTICE, question_ids=[])
    someone_elses.question_ids = list(Question.objects.filter(case__isnull=False).values_list("pk", flat=True))
    someone_elses.save()
    read_everything(reader, attempt=someone_elses)

    if role != "anonymous":
        user = request.getfixturevalue(role)

        def take(quiz: Quiz) -> None:
            assert reader.client.post(reverse("quizzes:quiz-start", args=[quiz.slug])).status_code == 302
            walk(reader, Attempt.objects.get(quiz=quiz, user=user))
            read_everything(reader, attempt=someone_elses)

        # The quizzes on the topic alone, every question answered wrong: the cases are still unknowns.
        quizzes = list(Quiz.objects.open_to(user))
        for quiz in quizzes:
            if not names_a_case(quiz):
                take(quiz)
        # A quiz of the click question alone: the click leaves its case an unknown, and its miss comes back
        # in a review session (the questions on the topic are put off: this one is the session).
        click = Question.objects.get(kind=Question.Kind.CLICK, case__number="tf101")
        take(make_quiz(questions=[click], slug="mark-it", title="Mark the finding"))
        assert not reader.known
        ReviewItem.objects.filter(user=user).exclude(question=click).update(due=timezone.localdate() + timedelta(3))
        ReviewItem.objects.filter(user=user, question=click).update(due=timezone.localdate(), last_reviewed=None)
        response = reader.client.post(reverse("quizzes:review-start"))
        review = Attempt.objects.get(user=user, quiz__isnull=True, finished_at__isnull=True)
        assert response["Location"] == review.get_absolute_url() and review.question_ids == [click.pk]
        walk(reader, review)
        read_everything(reader, attempt=someone_elses)
        # The quizzes of unknowns, which reveal their cases at the end.
        for quiz in quizzes:
            if names_a_case(quiz):
                take(quiz)
        assert reader.known == {"tf101", "tf102", "tf103"}, "the unknowns quiz revealed its cases"

        # A case rated "I missed it" comes back for review as an unknown.
        reader.client.post(reverse("cases:case-assess", args=["tf102"]), {"self_assessment": "missed"})
        Reveal.objects.filter(user=user, case__number="tf102").update(revealed_at=timezone.now() - timedelta(days=2))
        opened = reader.client.post(reverse("quizzes:review-case-open", args=["tf102"]))
        assert opened["Location"] == reverse("cases:case-detail", args=["tf102"])
        reader.known.discard("tf102")
        read_everything(reader, attempt=someone_elses)

    routes = set(POST_ONLY)
    for namespace in NAMESPACES:
        names = get_resolver().namespace_dict[namespace][1].reverse_dict
        routes_here = {f"{namespace}:{name}" for name in names if isinstance(name, str)}
        missing = routes_here - reader.fetched - POST_ONLY
        assert not missing, f"the answer-leak guard does not read {missing}: add them to the walk"
        routes |= routes_here
    assert routes >= POST_ONLY, "a POST-only route that no longer exists"
    assert reader.signed_checked, "the pages signed no image: the oracle above checked nothing"


@pytest.mark.django_db
def test_the_post_only_routes_refuse_a_get(resident, client):
    """What the guard does not read must not be readable: each POST-only route answers GET with 405."""
    client.force_login(resident)
    case = Case.objects.get(number="tf101")
    attempt = Attempt.objects.create(user=resident, mode=Quiz.Mode.PRACTICE, question_ids=[])
    urls = {
        "cases:case-reveal": reverse("cases:case-reveal", args=[case.number]),
        "cases:case-assess": reverse("cases:case-assess", args=[case.number]),
        "quizzes:quiz-start": reverse("quizzes:quiz-start", args=[Quiz.objects.first().slug]),
        "quizzes:attempt-answer": reverse("quizzes:attempt-answer", args=[attempt.pk]),
        "quizzes:attempt-finish": reverse("quizzes:attempt-finish", args=[attempt.pk]),
        "quizzes:review-start": reverse("quizzes:review-start"),
        "quizzes:review-case": reverse("quizzes:review-case", args=[case.number]),
        "quizzes:review-case-open": reverse("quizzes:review-case-open", args=[case.number]),
        "collections:collection-add-case": reverse("collections:collection-add-case", args=[case.number]),
        "cases:finding-view-link": reverse("cases:finding-view-link", args=[case.number, case.findings.first().pk]),
        "cases:gate-answer": reverse("cases:gate-answer", args=[case.number, 1]),
    }
    assert set(urls) == POST_ONLY
    for name, url in urls.items():
        assert client.get(url).status_code == 405, name
    assert Image.objects.exists()
