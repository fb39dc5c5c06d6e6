"""Pages of the quizzes: the list, an attempt question by question, results, review and progress."""

import logging
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST, require_safe

from cases.models import Case, Reveal, Series
from cases.reader_pages import reader_page
from cases.review_hold import hold, release
from cases.selectors import presented_viewer_data, series_viewer_data

from . import services
from .forms import AnswerForm, CaseReviewForm
from .models import Attempt, Question, Quiz, ReviewItem
from .progress import progress_for
from .selectors import AttemptState, review_queue_for

logger = logging.getLogger(__name__)

IMAGE_KINDS = (Question.Kind.CLICK, Question.Kind.UNKNOWN_CASE)


@require_safe
@login_required
def quiz_list(request):
    quizzes = Quiz.objects.open_to(request.user).prefetch_related("questions")
    unfinished = Attempt.objects.filter(user=request.user, finished_at__isnull=True).select_related("quiz")
    due = ReviewItem.objects.filter(user=request.user, due__lte=timezone.localdate()).count()
    return render(request, "quizzes/quiz_list.html", {"quizzes": quizzes, "unfinished": unfinished, "due_count": due})


@require_safe
@login_required
def quiz_detail(request, slug: str):
    quiz = get_object_or_404(Quiz.objects.open_to(request.user).prefetch_related("questions"), slug=slug)
    unfinished = Attempt.objects.filter(quiz=quiz, user=request.user, finished_at__isnull=True).first()
    done = Attempt.objects.filter(quiz=quiz, user=request.user, finished_at__isnull=False)
    return render(request, "quizzes/quiz_detail.html", {"quiz": quiz, "unfinished": unfinished, "done": done})


@require_POST
@login_required
def quiz_start(request, slug: str):
    quiz = get_object_or_404(Quiz.objects.open_to(request.user), slug=slug)  # as its page: names nothing
    try:
        attempt = services.attempt_start(quiz=quiz, user=request.user)
    except services.QuizUnavailable as error:
        messages.error(request, str(error))
        return redirect("quizzes:quiz-list")
    return redirect(attempt)


@require_safe
@login_required
@reader_page
def attempt_detail(request, pk: int):
    """Show the next unanswered question, or the feedback on the one just answered in practice mode."""
    state = AttemptState.for_user(request.user, pk)
    attempt = state.attempt
    if attempt.finished_at is not None:
        return redirect("quizzes:attempt-results", pk=attempt.pk)
    if attempt.is_over:  # finished by the resident's POST to "See the results": a GET writes nothing
        return render(request, "quizzes/attempt_detail.html", {"state": state, "attempt": attempt, "time_up": True})
    answered = state.answered(request.GET.get("answered", ""))
    question = answered or state.current
    context = {"state": state, "attempt": attempt, "question": question, "answered": answered}
    if question is not None:
        context["number"] = state.number_of(question)
        context["response"] = state.responses.get(question.pk)
    response = render(request, "quizzes/attempt_detail.html", context)
    if state.seconds_left is not None:
        patch_cache_control(response, no_store=True)  # the clock moves: the page is never served again
    return response


@require_POST
@login_required
def attempt_answer(request, pk: int):
    state = AttemptState.for_user(request.user, pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        logger.info("Refused an answer in attempt %s: %s", pk, form.errors.as_json())
        return HttpResponseBadRequest(
            "The answer could not be read: "
            + " ".join(str(error) for errors in form.errors.values() for error in errors),
            content_type="text/plain; charset=utf-8",
        )
    question = next((q for q in state.questions if q.pk == form.cleaned_data["question"]), None)
    if question is None:
        return HttpResponseBadRequest(
            "That question is not part of this attempt.", content_type="text/plain; charset=utf-8"
        )
    data = form.cleaned_data
    answer = services.Answer(
        option_position=data["option"], text=data["text"] or "", x=data["x"], y=data["y"], slice_number=data["slice"]
    )
    try:
        services.attempt_answer(attempt=state.attempt, question=question, answer=answer)
    except services.AnswerRefused as error:
        logger.info("Refused an answer in attempt %s: %s", pk, error)
        messages.error(request, str(error))
        return redirect(state.attempt)
    if state.attempt.mode == Quiz.Mode.PRACTICE:
        return redirect(f"{state.attempt.get_absolute_url()}?answered={question.pk}")
    return redirect(state.attempt)


@require_POST
@login_required
def attempt_finish(request, pk: int):
    state = AttemptState.for_user(request.user, pk)
    services.attempt_finish(attempt=state.attempt)
    return redirect("quizzes:attempt-results", pk=pk)


@require_safe
@login_required
def attempt_results(request, pk: int):
    """The summary of a finished attempt, then each question folded; ``?show=missed`` lists only the misses."""
    state = AttemptState.for_user(request.user, pk)
    if state.attempt.finished_at is None:
        return redirect(state.attempt)
    rows = state.rows()
    only_missed = request.GET.get("show") == "missed"
    context = {
        "state": state,
        "attempt": state.attempt,
        "summary": state.summary(),
        "all_rows": rows,
        "rows": [row for row in rows if row.missed] if only_missed else rows,
        "only_missed": only_missed,
    }
    return render(request, "quizzes/attempt_results.html", context)


@require_safe
@login_required
def question_images(request, pk: int, question: int):
    """The images of a question's case for the viewer, named by nothing that points to the case.

    Click the finding: its stage without annotations (they would answer it). Unknown case: the stages and
    annotations its page shows before the reveal.
    """
    state = AttemptState.for_user(request.user, pk)
    found = next((q for q in state.questions if q.pk == question and q.kind in IMAGE_KINDS), None)
    if found is None or not found.case.is_viewable_by(request.user):
        raise Http404
    if found.kind == Question.Kind.UNKNOWN_CASE:
        return JsonResponse(presented_viewer_data(found.case))
    if not Series.objects.open().filter(pk=found.series_id).exists():  # as when the question was written
        raise Http404
    return JsonResponse(series_viewer_data(found.series, annotations=False))


@require_safe
@login_required
def review_queue(request):
    return render(request, "quizzes/review_queue.html", {**review_queue_for(request.user), "form": CaseReviewForm()})


@require_POST
@login_required
def review_start(request):
    attempt = services.review_session_start(user=request.user)
    if attempt is None:
        messages.info(request, "Nothing is due for review today.")
        return redirect("quizzes:review-queue")
    return redirect(attempt)


@require_POST
@login_required
def review_case_open(request, number: str):
    """Open a case due for review as an unknown again: its answer stays hidden until it is revealed anew."""
    due = [item.case for item in review_queue_for(request.user)["due_cases"] if item.case.number == number]
    if not due:
        raise Http404("No such case due for review.")
    hold(request, due[0].pk)
    # Opened from a collection's page: the case page keeps its "Next unknown" (it checks the collection).
    collection = request.POST.get("collection", "")
    carried = f"?collection={collection}" if re.fullmatch(r"[-a-zA-Z0-9_]{1,80}", collection) else ""
    return redirect(f"{due[0].get_absolute_url()}{carried}")


@require_POST
@login_required
def review_case(request, number: str):
    case = get_object_or_404(Case.objects.viewable().visible_to(request.user), number=number)
    form = CaseReviewForm(request.POST)
    queued = ReviewItem.objects.filter(user=request.user, case=case).exists()
    missed = Reveal.objects.filter(user=request.user, case=case, self_assessment=Reveal.Assessment.MISSED).exists()
    if not form.is_valid() or not (queued or missed):
        return HttpResponseBadRequest(
            "Rate yourself as got it, partly or missed on a case in your review queue.",
            content_type="text/plain; charset=utf-8",
        )
    services.review_record(user=request.user, case=case, outcome=form.cleaned_data["outcome"])
    release(request, case.pk)
    messages.success(request, f"Case {case.number} will come back when it is due again.")
    return redirect("quizzes:review-queue")


@require_safe
@login_required
def progress(request):
    return render(request, "quizzes/progress.html", progress_for(request.user))
