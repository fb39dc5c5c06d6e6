"""Pages of the teaching file: home, case lists, the unknown and its reveal, topics, media."""

import logging
import re
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from . import file_responses, finding_links, gates, listing, page_cache, reader_pages, services, values, workflow
from .daily import case_of_the_day
from .differentials import suggested_names
from .forms import AssessmentForm, CaseFilterForm, RevealForm
from .models import Case, CaseFinding, Image, Reveal, Series, Topic
from .review_hold import release
from .selectors import ReaderState, reader_reveals, series_behind_gate, series_images_for_values

logger = logging.getLogger(__name__)

# Uploaded images sit under images/<2 hex>/, an import's under images/<its job's 32 hex>/.
STORED_IMAGE_NAME = re.compile(r"images/(?:[0-9a-f]{2}|[0-9a-f]{32})/[0-9a-f]{32}\.(?:png|jpg)")
# A collection's slug, carried from a case page through its reveal and rating (the page checks the collection).
CARRIED_COLLECTION = re.compile(r"[-a-zA-Z0-9_]{1,80}")


def reader_required(view):
    """Let logged-in users in, and visitors too when anonymous browsing is on."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated or settings.TEACHINGFILE_ANONYMOUS_BROWSING:
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapper


@require_safe
@reader_required
@page_cache.anonymous_page
@reader_pages.reader_page
def home(request):
    reveals = reader_reveals(request)
    visible = Case.objects.published().visible_to(request.user)
    cases = visible.with_reveal_state(reveals).for_list()
    today = case_of_the_day(cases=visible, reveals=reveals, day=timezone.localdate())
    return render(
        request,
        "cases/home.html",
        {
            "today": today,
            "today_cards": (
                page_cache.case_cards(cases.filter(pk=today.offered.pk), hide_diagnosis=True) if today.offered else []
            ),
            "latest_cases": page_cache.case_cards(cases[:6]),
            "published_count": listing.count_text(listing.capped_count(visible)),
            # Per reveal, not per case: the cost follows the reader's reveals, not the size of the catalogue.
            "done_count": reveals.filter(Exists(Case.objects.viewable().filter(pk=OuterRef("case")))).count(),
        },
    )


@require_safe
@reader_required
@page_cache.anonymous_page
@reader_pages.reader_page
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    cases = Case.objects.published().visible_to(request.user)
    if form.is_bound:
        form.is_valid()  # the valid filters apply even when another one is not understood
        cases = form.filter(cases)
    text = form.cleaned_data.get("q", "") if form.is_bound else ""
    size = settings.TEACHINGFILE_CASES_PER_PAGE
    page = listing.case_list_page(cases, reveals=reader_reveals(request), text=text, position=request.GET, size=size)
    context = {"form": form, "page": page, "cards": page_cache.case_cards(page.cases), "query": _list_query(request)}
    return render(request, "cases/case_list.html", context)


def _list_query(request) -> str:
    """Return the request's query string without its position in the list, for the links to other pages."""
    query = request.GET.copy()
    for name in ("page", "after", "before"):
        query.pop(name, None)
    return query.urlencode()


@require_safe
@reader_required
def case_done_list(request):
    reveals = (
        reader_reveals(request)
        .select_related("case", "case__topic")
        .filter(case__in=Case.objects.viewable().visible_to(request.user))
    )
    page = Paginator(reveals, 50).get_page(request.GET.get("page"))
    return render(request, "cases/reveal_list.html", {"page": page})


@require_safe
@reader_required
@page_cache.anonymous_page
@reader_pages.reader_page
def case_detail(request, number: str):
    state = ReaderState.for_case(request, number)
    preview = _is_preview(request, state)
    if preview:
        state = state.as_fresh_reader()
    context = state.context(show_answer=state.reveal is not None)
    # A preview shows what a resident who has done nothing yet would see.
    reveals = Reveal.objects.none() if preview else reader_reveals(request)
    similar = (
        Case.objects.published()
        .visible_to(request.user)
        .filter(region=state.case.region)
        .exclude(pk=state.case.pk)
        .with_reveal_state(reveals)
        .for_list()[:4]
    )
    # Beside an unknown, a neighbour's diagnosis is a hint: the strip names diagnoses only beside an answer.
    context.update(
        preview=preview,
        reveal_form=RevealForm(),
        gate_form=lambda: gates.GateAnswerForm(gate=context["next_gate"]()),
        similar_cases=page_cache.case_cards(similar, hide_diagnosis=not context["show_answer"]),
        carry=_carried(request),
    )
    return render(request, "cases/case_detail.html", context)


@require_safe
@reader_required
def case_viewer(request, number: str):
    """Show one case's images alone in a full-page viewer, as the classic teaching files open them."""
    state = ReaderState.for_case(request, number)
    return render(request, "cases/case_viewer.html", {"case": state.case, "preview": _is_preview(request, state)})


@require_safe
@reader_required
def case_viewer_data(request, number: str):
    """Describe the stages, images and annotations the viewer may show this reader now."""
    state = ReaderState.for_case(request, number)
    if _is_preview(request, state):
        state = state.as_fresh_reader()
    data = state.viewer_data(show_answer=state.reveal is not None)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-cache"  # a reveal changes what it holds
    return response


def _carried(request) -> str:
    """Return the query that keeps the reader in the collection they came from ("" when there is none)."""
    slug = request.GET.get("collection", "")
    return f"?collection={slug}" if CARRIED_COLLECTION.fullmatch(slug) else ""


def _is_preview(request, state: ReaderState) -> bool:
    """Say whether an author asked to see the case as a resident who has not revealed it."""
    return request.GET.get("preview") == "resident" and state.can_edit


@require_POST
@reader_required
def case_reveal(request, number: str):
    state = ReaderState.for_case(request, number)
    form = RevealForm(request.POST)
    if not form.is_valid():
        logger.info("Refused a reveal of %s: fields %s", number, ", ".join(form.errors))
        return HttpResponseBadRequest(form.first_error(), content_type="text/plain; charset=utf-8")
    if state.reveal is None and state.next_gate(show_answer=False) is not None:
        logger.info("Refused a reveal of %s: a gate is not answered yet", number)
        return HttpResponseBadRequest(
            "Answer the question after the last stage shown first: the diagnosis comes after the whole work-up.",
            content_type="text/plain; charset=utf-8",
        )
    if not request.user.is_authenticated and not request.session.session_key:
        request.session.save()
    state.reveal = services.case_reveal(
        case=state.case,
        user=request.user,
        session_key=request.session.session_key or "",
        committed_answer=form.cleaned_data["committed_answer"],
        differential=form.cleaned_data["differential"],
    )
    release(request, state.case.pk)
    if request.headers.get("X-Requested-With") == "fetch":
        context = {**state.context(show_answer=True), "carry": _carried(request)}
        return render(request, "cases/includes/case_answer.html", context)
    return redirect(f"{state.case.get_absolute_url()}{_carried(request)}#answer")


@require_POST
@reader_required
def gate_answer(request, number: str, pk: int):
    """Keep this reader's answer to the case's next gate; the page then shows the stages it held back."""
    state = ReaderState.for_case(request, number)
    gate = state.next_gate(show_answer=state.reveal is not None)
    if gate is None or gate.pk != pk:
        answered = pk in state.answers or state.reveal is not None
        logger.info("Refused an answer to gate %s of %s: %s", pk, number, "answered" if answered else "not the next")
        message = (
            "You have answered this question already: your first answer is kept."
            if answered
            else "This question is not the next one of this case: reload the case to see where you are."
        )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    form = gates.GateAnswerForm(request.POST, gate=gate)
    if not form.is_valid():
        logger.info("Refused an answer to gate %s of %s: fields %s", pk, number, ", ".join(form.errors))
        return HttpResponseBadRequest(form.first_error(), content_type="text/plain; charset=utf-8")
    if not request.user.is_authenticated and not request.session.session_key:
        request.session.save()
    answer = gates.gate_answer(
        gate=gate, user=request.user, session_key=request.session.session_key or "", **form.answer_fields()
    )
    before = {series.pk for series in state.open_series(show_answer=False)}
    state.answers[gate.pk] = answer
    # Open the page at the first stage the answer brought (on the last stage's gate: at the reveal form).
    after = [series.pk for series in state.open_series(show_answer=False) if series.pk not in before]
    anchor = f"stage-{after[0]}" if after else "answer-slot"
    url = f"{state.case.get_absolute_url()}{_carried(request)}#{anchor}"
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"url": url})
    return redirect(url)


@require_POST
@reader_required
def finding_view_link(request, number: str, pk: int):
    """Link a finding to the view posted by the viewer ("Link current view"), or remove its link (``clear``)."""
    finding = get_object_or_404(CaseFinding.objects.select_related("case"), pk=pk, case__number=number)
    if not finding.case.is_editable_by(request.user):
        raise Http404("No such finding.")
    if not workflow.edits_apply_directly(user=request.user, case=finding.case):
        message = "The findings of a published case change only through an editor: ask one to link this view."
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
    view = None
    if "clear" not in request.POST:
        form = finding_links.FindingViewForm(request.POST, finding=finding)
        if not form.is_valid():
            logger.info("Refused a link for finding %s: %s", finding.pk, ", ".join(form.errors))
            return HttpResponseBadRequest(form.first_error(), content_type="text/plain; charset=utf-8")
        view = form.cleaned_data["view"]
    finding_links.finding_link_view(finding=finding, view=view)
    url = finding.case.get_absolute_url() + finding.view_query if view else ""
    return JsonResponse({"url": url})


@require_POST
@reader_required
def case_assess(request, number: str):
    state = ReaderState.for_case(request, number)
    form = AssessmentForm(request.POST)
    if state.reveal is None or not form.is_valid():
        return HttpResponseBadRequest(
            "Reveal the case first, then rate yourself as got it, partly or missed.",
            content_type="text/plain; charset=utf-8",
        )
    services.reveal_assess(reveal=state.reveal, assessment=form.cleaned_data["self_assessment"])
    return redirect(f"{state.case.get_absolute_url()}{_carried(request)}#assessment")


@require_safe
@reader_required
@page_cache.anonymous_page
@reader_pages.reader_page
def topic_list(request):
    # No case counts: "3 cases" on a site of 3 cases names the diagnosis of every unknown.
    return render(request, "cases/topic_list.html", {"topics": Topic.objects.all()})


@require_safe
@reader_required
def topic_names(request):
    """List the names the differential's boxes suggest: one list for every case, so it tells nothing of one."""
    response = JsonResponse({"names": suggested_names()}, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
@reader_required
@page_cache.anonymous_page
@reader_pages.reader_page
def topic_detail(request, slug: str):
    topic = get_object_or_404(Topic, slug=slug)
    page = listing.browse_page(
        topic.cases.published().visible_to(request.user),
        reveals=reader_reveals(request),
        position=request.GET,
        size=settings.TEACHINGFILE_CASES_PER_PAGE,
        count=False,
    )
    head, references = page_cache.topic_article(topic)
    context = {"topic": topic, "page": page, "cards": page_cache.case_cards(page.cases), "query": _list_query(request)}
    context.update(article_head=head, article_references=references)
    return render(request, "cases/topic_detail.html", context)


@require_safe
def media_file(request, name: str):
    """Serve a stored image only to readers who may see it now."""
    if not STORED_IMAGE_NAME.fullmatch(name):
        raise Http404
    image = _image_for_reader(request, Q(file=name) | Q(thumbnail=name) | Q(medium=name))
    try:
        return file_responses.stored_file_response(request, name)
    except FileNotFoundError:
        logger.error("Image %s has a row but no stored file", image.pk)
        raise Http404 from None


@require_safe
def image_values(request, pk: int):
    """Serve an image's prepared real-world values (zlib int16 or float32) for the viewer's live windowing.

    404 while they are not prepared (or when the image has none): the viewer then shows the web image.
    """
    image = _image_for_reader(request, Q(pk=pk))
    # The values come from the stored DICOM object (a new name when it changes); the stage's modality decides
    # how they are drawn.
    key = f"{image.dicom_file.name}#{image.frame_number}#{image.series.modality}"
    unchanged = file_responses.not_modified(request, key=key) if image.dicom_file else None
    if unchanged is not None:
        return unchanged
    prepared = values.image_values(image=image)
    if prepared is None:
        raise Http404
    response = HttpResponse(prepared.data, content_type="application/octet-stream")
    response["X-Values-Type"] = prepared.dtype
    response["X-Values-Inverted"] = "1" if prepared.inverted else "0"
    response["ETag"] = file_responses.name_etag(key)
    response["Cache-Control"] = file_responses.CACHE_CONTROL
    return response


@require_safe
def series_values(request, pk: int):
    """Stream the values of every slice of a stage, those nearest the slice at ``around`` first."""
    series = Series.objects.select_related("case").filter(pk=pk).first()
    if series is None:
        raise Http404
    _check_series_for_reader(request, series)
    around = request.GET.get("around", "")
    images = series_images_for_values(series, around=int(around) if re.fullmatch(r"[0-9]{1,6}", around) else 0)
    response = StreamingHttpResponse(values.series_values(images=images), content_type="application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    return response


def _image_for_reader(request, lookup: Q) -> Image:
    """Return the image this reader may see now, or raise 404: same rules for its files and its values."""
    image = Image.objects.select_related("series__case").filter(lookup).first()
    if image is None:
        raise Http404
    _check_series_for_reader(request, image.series)
    if image.held_for_review and not image.series.case.is_editable_by(request.user):
        raise Http404
    return image


def _check_series_for_reader(request, series: Series) -> None:
    """Raise 404 unless this reader may see the stage now: its case, its label checked, its reveal done."""
    if not (request.user.is_authenticated or settings.TEACHINGFILE_ANONYMOUS_BROWSING):
        raise Http404
    case = series.case
    if not case.is_viewable_by(request.user):
        raise Http404
    if case.is_editable_by(request.user):
        return
    if not series.label_confirmed:
        raise Http404
    if series.after_reveal and not reader_reveals(request).filter(case=case).exists():
        raise Http404
    if not series.after_reveal and series_behind_gate(request, series):
        raise Http404
