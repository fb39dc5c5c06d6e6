"""Reads that combine a case with who is looking at it."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.urls import reverse

from imaging import windows

from . import page_cache, workflow
from .differentials import mark_differential
from .models import Annotation, Case, Gate, GateAnswer, Image, Reveal, RevealDifferential, Series
from .review_hold import held_cases


def reader_key(request: HttpRequest):
    """Return (user, session key) identifying the reader for reveals."""
    if request.user.is_authenticated:
        return request.user, None
    return None, request.session.session_key


def reader_gate_answers(request: HttpRequest):
    """Return this reader's answers to gates (their user's, or their anonymous session's)."""
    user, session_key = reader_key(request)
    return GateAnswer.objects.for_reader(user=user, session_key=session_key)


def reader_reveals(request: HttpRequest):
    """Return the reveals that count for this reader now: a case they review again is not revealed."""
    user, session_key = reader_key(request)
    return Reveal.objects.for_reader(user=user, session_key=session_key).exclude(case__in=held_cases(request))


@dataclass(frozen=True)
class WorkUpStep:
    """One gate of a case's work-up as this reader met it: the stage it follows, and their answer if any."""

    number: int
    series: Series
    gate: Gate
    answer: GateAnswer | None
    marks: list = field(default_factory=list)  # a differential answer's entries marked, once the answer is shown


@dataclass
class ReaderState:
    """A case as one reader may see it: can they edit it, have they revealed it, which gates they answered."""

    case: Case
    reveal: Reveal | None
    can_edit: bool
    can_link_findings: bool = False  # "Link current view": an author whose edits reach readers at once
    answers: dict[int, GateAnswer] = field(default_factory=dict)  # by gate id, this case's gates only

    @classmethod
    def for_case(cls, request: HttpRequest, number: str) -> "ReaderState":
        """Load the case for this reader, or raise 404 when they may not see it."""
        # The stages are loaded when a page asks for them: the case page's body usually comes from the cache.
        # The authors only when an author asks (is_editable_by): a resident's page never needs them.
        case = Case.objects.select_related("topic").filter(number=number).first()
        if case is None or not case.is_viewable_by(request.user):
            raise Http404("No such case.")
        reveal = reader_reveals(request).filter(case=case).first()
        can_edit = case.is_editable_by(request.user)
        can_link = can_edit and workflow.edits_apply_directly(user=request.user, case=case)
        answers = reader_gate_answers(request).filter(gate__series__case=case)
        return cls(
            case=case,
            reveal=reveal,
            can_edit=can_edit,
            can_link_findings=can_link,
            answers={answer.gate_id: answer for answer in answers},
        )

    def as_fresh_reader(self) -> "ReaderState":
        """Return the case as a reader who has answered and revealed nothing sees it (the author's preview)."""
        return ReaderState(case=self.case, reveal=None, can_edit=self.can_edit)

    @property
    def presented_series(self) -> list[Series]:
        return [series for series in self._stages() if series.label_confirmed and not series.after_reveal]

    def open_series(self, *, show_answer: bool) -> list[Series]:
        """Return the stages shown before the reveal that this reader may see now: all of them once the answer
        is shown, else those before the first gate they have not answered and that gate's own stage."""
        if show_answer:
            return self.presented_series
        return self._walk()[0]

    def next_gate(self, *, show_answer: bool) -> Gate | None:
        """Return the gate this reader must answer before the next stages (None: the reveal is next)."""
        if show_answer:
            return None
        return self._walk()[1]

    def next_gate_is_last(self) -> bool:
        """Say whether no stage shown before the reveal comes after the next gate: the diagnosis is next."""
        shown, gate = self._walk()
        return gate is not None and self.presented_series[len(shown) :] == []

    def _walk(self) -> tuple[list[Series], Gate | None]:
        """Walk the stages in order to the first gate this reader has not answered: the stages shown up to it,
        and that gate. Every gate stops the walk, also one on a stage itself not shown (fail closed)."""
        shown = []
        for series in self._stages():
            if series.label_confirmed and not series.after_reveal:
                shown.append(series)
            gate = _gate_of(series)
            if gate is not None and gate.pk not in self.answers:
                return shown, gate
        return shown, None

    def work_up(self, *, marked: bool = False) -> list[WorkUpStep]:
        """Return the case's gates in order, each with the stage it follows and this reader's answer.

        ``marked``: mark a differential answer against the case's answer (only once the answer is shown).
        """
        gated = [(series, gate) for series in self._stages() if (gate := _gate_of(series)) is not None]
        steps = []
        for number, (series, gate) in enumerate(gated, start=1):
            answer = self.answers.get(gate.pk)
            marks = _gate_marks(self.case, answer) if marked else []
            steps.append(WorkUpStep(number=number, series=series, gate=gate, answer=answer, marks=marks))
        return steps

    def work_up_so_far(self) -> list[WorkUpStep]:
        """Return the steps this reader answered among the stages they are sent now (before the reveal): an
        answer to a gate that a gate added in front of it holds back again is not named."""
        shown = {series.pk for series in self.open_series(show_answer=False)}
        return [step for step in self.work_up() if step.answer is not None and step.series.pk in shown]

    @property
    def revealed_series(self) -> list[Series]:
        return [series for series in self._stages() if series.label_confirmed and series.after_reveal]

    def _stages(self) -> list[Series]:
        if not hasattr(self.case, "all_series"):
            prefetch_related_objects([self.case], Case.stages_prefetch())
        return self.case.all_series

    def context(self, *, show_answer: bool) -> dict:
        """Return the template context; hidden parts only when the answer is shown."""
        context = {
            "case": self.case,
            # Rendered (or read from the cache) only where a template shows it: the answer fragment does not.
            "case_body": lambda: page_cache.case_body(
                self.case,
                gates_passed="all" if show_answer else tuple(sorted(self.answers)),
                stages=lambda: self.open_series(show_answer=show_answer),
            ),
            "next_gate": lambda: self.next_gate(show_answer=show_answer),
            "next_gate_is_last": self.next_gate_is_last,
            "work_up_so_far": self.work_up_so_far,
            "can_edit": self.can_edit,
            "can_link_findings": self.can_link_findings,
            "reveal": self.reveal,
            "show_answer": show_answer,
        }
        if show_answer:
            # The hidden lists are read only now: an unknown's page never has them in memory.
            prefetch_related_objects([self.case], *Case.ANSWER_LISTS)
            context["revealed_series"] = self.revealed_series
            entries = self.reveal.differential.all() if self.reveal else ()
            context["differential_marks"] = mark_differential(case=self.case, entries=entries)
            context["work_up"] = self.work_up(marked=True)
        return context

    def viewer_data(self, *, show_answer: bool) -> dict:
        """Describe for the viewer the stages this reader may see now, with their images and annotations.

        Stages and annotations marked "shown after reveal" are left out until the answer is shown, so a
        deep link or a hand-made request cannot reach them earlier.
        """
        series_list = self.open_series(show_answer=show_answer) + (self.revealed_series if show_answer else [])
        images = [image for series in series_list for image in series.images.all()]
        annotations = Annotation.objects.all() if show_answer else Annotation.objects.presented()
        prefetch_related_objects(images, Prefetch("annotations", queryset=annotations))
        return {
            "case": self.case.number,
            "revealed": show_answer,
            "series": [_series_data(series, number) for number, series in enumerate(series_list, start=1)],
        }


def _gate_of(series: Series) -> Gate | None:
    """Return the stage's gate (read with the stage: ``Case.stages_prefetch``), or None."""
    try:
        return series.gate
    except Gate.DoesNotExist:
        return None


def _gate_marks(case: Case, answer: GateAnswer | None) -> list:
    """Mark the differential of a gate's answer as the reveal's differential is marked."""
    if answer is None or not answer.differential:
        return []
    entries = [RevealDifferential(rank=rank, text=text) for rank, text in enumerate(answer.differential, start=1)]
    return mark_differential(case=case, entries=entries)


def series_behind_gate(request: HttpRequest, series: Series) -> bool:
    """Say whether a gate this reader has not answered holds the stage back (its case not revealed either).

    One query for a stage no gate precedes; two more when one does.
    """
    gates = Gate.objects.before(series)
    if not gates.exists():
        return False
    if reader_reveals(request).filter(case_id=series.case_id).exists():
        return False
    return gates.exclude(pk__in=reader_gate_answers(request).values("gate")).exists()


def series_viewer_data(series: Series, *, annotations: bool) -> dict:
    """Describe one stage shown before the reveal for the viewer alone, as a quiz question shows it.

    Nothing in it names the case: a question's images must not point to the case they come from.
    """
    prefetch_related_objects([series], Prefetch("images", queryset=Image.objects.shown()))
    return {"revealed": False, "series": [_series_data(series, 1, annotations=annotations)]}


def presented_viewer_data(case: Case) -> dict:
    """Describe what a case shows before its reveal and its first gate, without naming it, for an unknown-case
    question (a quiz asks no gate's question: the stages behind one are left out)."""
    images = Image.objects.shown().prefetch_related(Prefetch("annotations", queryset=Annotation.objects.presented()))
    series_list = Series.objects.open().filter(case=case).prefetch_related(Prefetch("images", queryset=images))
    return {"revealed": False, "series": [_series_data(series, n) for n, series in enumerate(series_list, start=1)]}


def _series_data(series: Series, number: int, *, annotations: bool = True) -> dict:
    return {
        "id": series.pk,
        "number": number,
        "label": series.label,
        "modality": series.modality,
        "afterReveal": series.after_reveal,
        "cine": series.is_cine,
        "opensIn": series.window_preset.capitalize(),  # the name of one of its presets, or ""
        "presets": [
            {"name": window.name.capitalize(), "center": window.center, "width": window.width}
            for window in windows.presets_for_part(series.modality, series.body_part)
        ],
        "values": reverse("cases:series-values", args=[series.pk]),
        "images": [_image_data(image, series, annotations=annotations) for image in series.images.all()],
    }


def _image_data(image: Image, series: Series, *, annotations: bool) -> dict:
    return {
        "id": image.pk,
        "src": reverse("cases:media-file", args=[image.file.name]),
        "values": reverse("cases:image-values", args=[image.pk]) if image.dicom_file else None,
        "width": image.width,
        "height": image.height,
        "position": image.slice_position_mm,
        "orientation": image.orientation or None,
        "view": image.view,
        "seconds": image.time_after_injection.total_seconds() if image.time_after_injection is not None else None,
        "center": image.window_center,
        "window": image.window_width,
        # A quiz question shows the stage bare: the key slice and the captions could point at the answer.
        "key": image.is_key if annotations else False,
        "caption": image.caption if annotations else "",
        "alt": image.alt_text or series.label,
        "annotations": [annotation_data(mark) | {"id": mark.pk} for mark in image.annotations.all()]
        if annotations
        else [],
    }


def annotation_data(annotation: Annotation) -> dict:
    """Describe an annotation as the viewer and the annotation editor draw it."""
    return {
        "kind": annotation.kind,
        "points": [annotation.x1, annotation.y1, annotation.x2, annotation.y2],
        "label": annotation.label,
    }


def series_images_for_values(series: Series, *, around: int) -> list[Image]:
    """Return the images of a stage readers may see, the one at index ``around`` and its neighbours first."""
    images = list(series.images.shown())
    for image in images:
        image.series = series  # the values need the modality: no query per image
    return [image for _, image in sorted(enumerate(images), key=lambda pair: abs(pair[0] - around))]


@dataclass(frozen=True)
class StageProblem:
    """What one stage still keeps from readers: images held for burned-in text, a label not confirmed."""

    series_id: int
    number: int  # the stage's place in the case, from 1, as the authoring screen and the case page count
    label: str
    held: int
    label_confirmed: bool

    def __str__(self) -> str:
        parts = []
        if self.held:
            images, them = ("image", "it") if self.held == 1 else ("images", "them")
            held = f"{self.held} {images} held for burned-in text"
            parts.append(f"{held} (confirm {them} free of identifying text or mask the text)")
        if not self.label_confirmed:
            parts.append("label and caption need confirming")
        return f"Stage {self.number} · {self.label}: {'; '.join(parts)}."


def case_stage_problems(case: Case) -> list[StageProblem]:
    """List, stage by stage in the case's order, what the authors must check before the case goes further.

    One query however many stages and images the case has.
    """
    stages = case.series.order_by("order", "pk").annotate(held=Count("images", filter=Q(images__held_for_review=True)))
    return [
        StageProblem(
            series_id=series.pk,
            number=number,
            label=series.label,
            held=series.held,
            label_confirmed=series.label_confirmed,
        )
        for number, series in enumerate(stages, start=1)
        if series.held or not series.label_confirmed
    ]


def case_stages_to_check(case: Case) -> list[Series]:
    """Return the stages of the case that wait for the authors, each with ``check_images``: its held images,
    and its key image to show what an unconfirmed stage holds. Two queries whatever the case's size."""
    held = Image.objects.filter(series=OuterRef("pk"), held_for_review=True)
    stages = case.series.filter(Q(label_confirmed=False) | Exists(held)).order_by("order", "pk")
    shown = Image.objects.filter(Q(held_for_review=True) | Q(is_key=True)).order_by("order", "pk")
    return list(stages.prefetch_related(Prefetch("images", queryset=shown, to_attr="check_images")))
