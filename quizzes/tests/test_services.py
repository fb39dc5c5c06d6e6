"""Attempts: start and resume, one scored answer per question, the time limit, scoring and the review queue."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Reveal, Topic
from cases.services import case_reveal, reveal_assess
from cases.tests.factories import make_case, make_image, make_series, make_user
from quizzes import services
from quizzes.models import Attempt, Question, Quiz, ReviewItem
from quizzes.services import Answer, AnswerRefused, QuizUnavailable
from quizzes.tests.factories import make_quiz, make_sba, option

pytestmark = pytest.mark.django_db


def test_start_shuffles_with_the_quiz_settings_and_resumes_the_open_attempt(resident):
    questions = [make_sba() for _ in range(6)]
    quiz = make_quiz(questions=questions, shuffle_questions=True, shuffle_options=True)
    attempt = services.attempt_start(quiz=quiz, user=resident, shuffle=random.Random(3))
    assert sorted(attempt.question_ids) == sorted(question.pk for question in questions)
    assert attempt.question_ids != [question.pk for question in questions], "this seed reorders them"
    assert all(
        sorted(ids) == sorted(o.pk for o in Question.objects.get(pk=int(pk)).options.all())
        for pk, ids in attempt.option_ids.items()
    )
    assert services.attempt_start(quiz=quiz, user=resident) == attempt


def test_an_unpublished_closed_or_other_group_quiz_cannot_be_started(resident, faculty):
    for quiz in (
        make_quiz(questions=[make_sba()], is_published=False),
        make_quiz(questions=[make_sba()], closes_at=timezone.now() - timedelta(minutes=1)),
        make_quiz(questions=[make_sba()], opens_at=timezone.now() + timedelta(days=1)),
    ):
        with pytest.raises(QuizUnavailable):
            services.attempt_start(quiz=quiz, user=resident)
    faculty_only = make_quiz(questions=[make_sba()])
    faculty_only.groups.set(faculty.groups.all())
    with pytest.raises(QuizUnavailable):
        services.attempt_start(quiz=faculty_only, user=resident)
    assert services.attempt_start(quiz=faculty_only, user=faculty)


def test_the_first_answer_stands_and_a_replay_changes_nothing(resident):
    question = make_sba(correct=2)
    attempt = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    wrong = services.attempt_answer(attempt=attempt, question=question, answer=Answer(option_id=option(question, 0).pk))
    replay = services.attempt_answer(
        attempt=attempt, question=question, answer=Answer(option_id=option(question, 2).pk)
    )
    assert replay.pk == wrong.pk and not replay.is_correct
    assert attempt.responses.count() == 1


def test_an_option_of_another_question_is_refused(resident):
    question, other = make_sba(), make_sba()
    attempt = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    with pytest.raises(AnswerRefused):
        services.attempt_answer(attempt=attempt, question=question, answer=Answer(option_id=option(other, 0).pk))
    with pytest.raises(AnswerRefused):
        services.attempt_answer(attempt=attempt, question=other, answer=Answer(option_id=option(other, 0).pk))
    assert not attempt.responses.exists()


def test_answers_after_the_time_limit_are_kept_but_not_counted(resident):
    first, second = make_sba(correct=1), make_sba(correct=1)
    quiz = make_quiz(questions=[first, second], time_limit_minutes=10, mode=Quiz.Mode.EXAM)
    attempt = services.attempt_start(quiz=quiz, user=resident)
    services.attempt_answer(attempt=attempt, question=first, answer=Answer(option_id=option(first, 1).pk))
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    attempt.refresh_from_db()
    late = services.attempt_answer(attempt=attempt, question=second, answer=Answer(option_id=option(second, 1).pk))
    assert late.is_correct and not late.in_time
    assert services.attempt_is_over(attempt)
    finished = services.attempt_finish(attempt=attempt)
    assert finished.score == 0.5
    with pytest.raises(AnswerRefused):
        services.attempt_answer(attempt=finished, question=second, answer=Answer(option_id=option(second, 1).pk))


def test_a_typed_diagnosis_is_marked_against_the_topic():
    case = make_case(topic=_topic())
    user = make_user("typist", "resident")
    question = Question.objects.create(key="unknown-t", kind=Question.Kind.UNKNOWN_CASE, case=case, stem="?")
    quiz = make_quiz(questions=[question], mode=Quiz.Mode.PRACTICE)
    attempt = services.attempt_start(quiz=quiz, user=user)
    response = services.attempt_answer(
        attempt=attempt, question=question, answer=Answer(text="heterotopic ossificaton")
    )
    assert response.is_correct
    assert Reveal.objects.get(case=case, user=user).committed_answer == "heterotopic ossificaton", "practice reveals"


def test_a_click_on_the_target_slice_counts_and_one_beside_it_does_not(resident):
    Q = Question
    case = make_case()
    series = make_series(case=case, modality="CT")
    for order in range(5):
        make_image(series=series, order=order)
    question = Q.objects.create(
        key="click-t",
        kind=Q.Kind.CLICK,
        case=case,
        series=series,
        stem="Mark it.",
        target_x=0.5,
        target_y=0.5,
        target_radius=0.1,
        slice_from=2,
        slice_to=3,
    )
    hit = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    assert services.attempt_answer(
        attempt=hit, question=question, answer=Answer(x=0.55, y=0.5, slice_number=3)
    ).is_correct
    miss = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    response = services.attempt_answer(attempt=miss, question=question, answer=Answer(x=0.55, y=0.5, slice_number=4))
    assert not response.is_correct
    with pytest.raises(AnswerRefused):
        services.attempt_answer(
            attempt=services.attempt_start(quiz=make_quiz(questions=[question]), user=resident),
            question=question,
            answer=Answer(),
        )


def test_finishing_an_exam_scores_unanswered_as_wrong_and_reveals_its_cases(resident):
    case = make_case()
    tied = make_sba(correct=0, case=case)
    quiz = make_quiz(questions=[tied, make_sba(), make_sba()], mode=Quiz.Mode.EXAM)
    attempt = services.attempt_start(quiz=quiz, user=resident)
    services.attempt_answer(attempt=attempt, question=tied, answer=Answer(option_id=option(tied, 0).pk))
    assert not Reveal.objects.filter(case=case, user=resident).exists(), "an exam reveals nothing before the end"
    finished = services.attempt_finish(attempt=attempt)
    assert finished.score == pytest.approx(1 / 3)
    assert Reveal.objects.filter(case=case, user=resident).exists()
    assert services.attempt_finish(attempt=finished).finished_at == finished.finished_at, "finishing twice is harmless"


def test_a_missed_question_is_due_tomorrow_and_a_review_session_brings_it_back(resident):
    question = make_sba(correct=0)
    attempt = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    services.attempt_answer(attempt=attempt, question=question, answer=Answer(option_id=option(question, 3).pk))
    item = ReviewItem.objects.get(user=resident, question=question)
    assert item.due == timezone.localdate() + timedelta(days=1)
    assert services.review_session_start(user=resident) is None, "nothing is due today"

    ReviewItem.objects.filter(pk=item.pk).update(due=timezone.localdate())
    review = services.review_session_start(user=resident)
    assert review.is_review and review.question_ids == [question.pk]
    services.attempt_answer(attempt=review, question=question, answer=Answer(option_id=option(question, 0).pk))
    item.refresh_from_db()
    assert item.repetitions == 1 and item.due == timezone.localdate() + timedelta(days=1)


def test_cases_rated_missed_join_the_review_queue_once(resident):
    case = make_case()
    reveal_assess(reveal=case_reveal(case=case, user=resident), assessment=Reveal.Assessment.MISSED)
    assert services.review_sync_cases(user=resident) == 1
    assert services.review_sync_cases(user=resident) == 0
    item = ReviewItem.objects.get(user=resident, case=case)
    services.review_record(user=resident, case=case, outcome="correct", today=item.due)
    item.refresh_from_db()
    assert item.repetitions == 1 and item.due > timezone.localdate()


def _topic() -> Topic:
    return Topic.objects.get(slug="heterotopic-ossification")
