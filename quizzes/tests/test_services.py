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
from quizzes.progress import progress_for
from quizzes.selectors import cohort_results, review_queue_for
from quizzes.services import Answer, AnswerRefused, QuizUnavailable
from quizzes.tests.factories import make_click, make_quiz, make_sba, pick

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
    wrong = services.attempt_answer(
        attempt=attempt, question=question, answer=Answer(option_position=pick(attempt, question, 0))
    )
    replay = services.attempt_answer(
        attempt=attempt, question=question, answer=Answer(option_position=pick(attempt, question, 2))
    )
    assert replay.pk == wrong.pk and not replay.is_correct
    assert attempt.responses.count() == 1


def test_an_option_outside_the_shown_ones_or_a_question_outside_the_attempt_is_refused(resident):
    question, other = make_sba(), make_sba()
    attempt = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    for position in (None, -1, 5):
        with pytest.raises(AnswerRefused):
            services.attempt_answer(attempt=attempt, question=question, answer=Answer(option_position=position))
    with pytest.raises(AnswerRefused):
        services.attempt_answer(attempt=attempt, question=other, answer=Answer(option_position=0))
    assert not attempt.responses.exists()


def test_an_answer_after_the_quiz_closes_does_not_count(resident):
    question = make_sba(correct=0)
    quiz = make_quiz(questions=[question], closes_at=timezone.now() + timedelta(minutes=5), time_limit_minutes=60)
    attempt = services.attempt_start(quiz=quiz, user=resident)
    assert attempt.deadline == quiz.closes_at, "the closing time comes before the end of the time limit"
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    late = services.attempt_answer(
        attempt=attempt, question=question, answer=Answer(option_position=pick(attempt, question, 0))
    )
    assert late.is_correct and not late.in_time


def test_answers_after_the_time_limit_are_kept_but_not_counted(resident):
    first, second = make_sba(correct=1), make_sba(correct=1)
    quiz = make_quiz(questions=[first, second], time_limit_minutes=10, mode=Quiz.Mode.EXAM)
    attempt = services.attempt_start(quiz=quiz, user=resident)
    services.attempt_answer(attempt=attempt, question=first, answer=Answer(option_position=pick(attempt, first, 1)))
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    attempt.refresh_from_db()
    late = services.attempt_answer(
        attempt=attempt, question=second, answer=Answer(option_position=pick(attempt, second, 1))
    )
    assert late.is_correct and not late.in_time
    assert attempt.is_over
    finished = services.attempt_finish(attempt=attempt)
    assert finished.score == 0.5
    with pytest.raises(AnswerRefused):
        services.attempt_answer(
            attempt=finished, question=second, answer=Answer(option_position=pick(finished, second, 1))
        )


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
    services.attempt_answer(attempt=attempt, question=tied, answer=Answer(option_position=pick(attempt, tied, 0)))
    assert not Reveal.objects.filter(case=case, user=resident).exists(), "an exam reveals nothing before the end"
    finished = services.attempt_finish(attempt=attempt)
    assert finished.score == pytest.approx(1 / 3)
    assert Reveal.objects.filter(case=case, user=resident).exists()
    assert services.attempt_finish(attempt=finished).finished_at == finished.finished_at, "finishing twice is harmless"


def test_a_missed_question_is_due_tomorrow_and_a_review_session_brings_it_back(resident):
    question = make_sba(correct=0)
    attempt = services.attempt_start(quiz=make_quiz(questions=[question]), user=resident)
    services.attempt_answer(
        attempt=attempt, question=question, answer=Answer(option_position=pick(attempt, question, 3))
    )
    item = ReviewItem.objects.get(user=resident, question=question)
    assert item.due == timezone.localdate() + timedelta(days=1)
    assert services.review_session_start(user=resident) is None, "nothing is due today"

    yesterday = timezone.localdate() - timedelta(days=1)
    ReviewItem.objects.filter(pk=item.pk).update(due=timezone.localdate(), last_reviewed=yesterday)
    review = services.review_session_start(user=resident)
    assert review.is_review and review.question_ids == [question.pk]
    services.attempt_answer(attempt=review, question=question, answer=Answer(option_position=pick(review, question, 0)))
    item.refresh_from_db()
    assert item.repetitions == 1 and item.due == timezone.localdate() + timedelta(days=1)


def test_cases_rated_missed_come_due_and_are_scheduled_when_rated_again(resident):
    case = make_case()
    reveal_assess(reveal=case_reveal(case=case, user=resident), assessment=Reveal.Assessment.MISSED)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert review_queue_for(resident)["due_cases"] == [], "due the day after the reveal"
    services.review_record(user=resident, case=case, outcome="correct", today=tomorrow)
    item = ReviewItem.objects.get(user=resident, case=case)
    assert item.repetitions == 1 and item.due == tomorrow + timedelta(days=1)


def test_a_review_session_is_resumed_and_a_second_review_the_same_day_does_not_count_twice(resident):
    question = make_sba(correct=0)
    services.review_record(
        user=resident, question=question, outcome="missed", today=timezone.localdate() - timedelta(days=1)
    )
    first = services.review_session_start(user=resident)
    assert services.review_session_start(user=resident) == first
    services.attempt_answer(attempt=first, question=question, answer=Answer(option_position=pick(first, question, 0)))
    services.review_record(user=resident, question=question, outcome="correct")
    item = ReviewItem.objects.get(user=resident, question=question)
    assert item.repetitions == 1


def _topic() -> Topic:
    return Topic.objects.get(slug="heterotopic-ossification")


def test_an_exam_tells_nothing_before_it_ends(resident):
    """No review item, no reveal and no progress while an exam runs: each would say which answers were right."""
    case = make_case()
    tied = make_sba(correct=0, case=case)
    attempt = services.attempt_start(quiz=make_quiz(questions=[tied, make_sba()], mode=Quiz.Mode.EXAM), user=resident)
    services.attempt_answer(attempt=attempt, question=tied, answer=Answer(option_position=pick(attempt, tied, 3)))
    assert not ReviewItem.objects.filter(user=resident).exists()
    assert not Reveal.objects.filter(user=resident, case=case).exists()
    assert progress_for(resident)["accuracy"]["topic"] == []
    services.attempt_finish(attempt=attempt)
    assert ReviewItem.objects.filter(user=resident, question=tied).exists()
    assert progress_for(resident)["accuracy"]["topic"][0].answered == 1


def test_practice_reveals_a_case_only_once_all_its_questions_are_answered(resident):
    case = make_case()
    first, second = make_sba(correct=0, case=case), make_sba(correct=0, case=case)
    attempt = services.attempt_start(quiz=make_quiz(questions=[first, second]), user=resident)
    services.attempt_answer(attempt=attempt, question=first, answer=Answer(option_position=pick(attempt, first, 0)))
    assert not Reveal.objects.filter(user=resident, case=case).exists()
    services.attempt_answer(attempt=attempt, question=second, answer=Answer(option_position=pick(attempt, second, 0)))
    assert Reveal.objects.filter(user=resident, case=case).exists()


def test_an_attempt_whose_time_is_up_counts_in_progress_and_results_without_being_written(resident):
    first, second = make_sba(correct=1), make_sba(correct=1)
    quiz = make_quiz(questions=[first, second], time_limit_minutes=5, mode=Quiz.Mode.EXAM)
    attempt = services.attempt_start(quiz=quiz, user=resident)
    services.attempt_answer(attempt=attempt, question=first, answer=Answer(option_position=pick(attempt, first, 1)))
    assert progress_for(resident)["attempts"] == [] and cohort_results(quiz)["attempts"] == []
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    attempt.refresh_from_db()
    shown = progress_for(resident)["attempts"]
    assert [(a.pk, a.score, a.finished_at) for a in shown] == [(attempt.pk, 0.5, attempt.deadline)]
    assert [a.score for a in cohort_results(quiz)["attempts"]] == [0.5]
    attempt.refresh_from_db()
    assert attempt.finished_at is None and attempt.score is None, "reading results writes nothing"


@pytest.mark.parametrize("mode", [Quiz.Mode.PRACTICE, Quiz.Mode.EXAM])
def test_a_click_question_never_reveals_its_case(resident, mode):
    """Marking a finding commits no diagnosis: the case stays an unknown, in practice and after an exam."""
    case = make_case(topic=_topic())
    series = make_series(case=case, modality="CT")
    make_image(series=series)
    click = make_click(case=case, series=series, key="click-unrevealed")
    attempt = services.attempt_start(quiz=make_quiz(questions=[click], mode=mode), user=resident)
    services.attempt_answer(attempt=attempt, question=click, answer=Answer(x=0.5, y=0.5, slice_number=1))
    services.attempt_finish(attempt=attempt)
    assert not Reveal.objects.filter(user=resident, case=case).exists()
    assert [row.label for row in progress_for(resident)["accuracy"]["topic"]] == ["No topic"]
