"""Reads that combine a case with who is looking at it."""

from dataclasses import dataclass

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.urls import reverse

from .imaging import render
from .models import Annotation, Case, Image, Phase, Reveal, Series


def reader_key(request: HttpRequest):
    """Return (user, session key) identifying the reader for reveals."""
    if request.user.is_authenticated:
        return request.user, None
    return None, request.session.session_key


@dataclass
class ReaderState:
    """A case as one reader may see it: can they edit it, have they revealed it."""

    case: Case
    reveal: Reveal | None
    can_edit: bool

    @classmethod
    def for_case(cls, request: HttpRequest, number: str) -> "ReaderState":
        """Load the case for this reader, or raise 404 when they may not see it."""
        case = Case.objects.for_detail().filter(number=number).first()
        if case is None or not case.is_viewable_by(request.user):
            raise Http404("No such case.")
        user, session_key = reader_key(request)
        reveal = Reveal.objects.for_reader(user=user, session_key=session_key).filter(case=case).first()
        return cls(case=case, reveal=reveal, can_edit=case.is_editable_by(request.user))

    @property
    def presented_series(self) -> list[Series]:
        return [series for series in self.case.all_series if not series.after_reveal]

    @property
    def revealed_series(self) -> list[Series]:
        return [series for series in self.case.all_series if series.after_reveal]

    def context(self, *, show_answer: bool) -> dict:
        """Return the template context; hidden parts only when the answer is shown."""
        context = {
            "case": self.case,
            "presented_series": self.presented_series,
            "can_edit": self.can_edit,
            "reveal": self.reveal,
            "show_answer": show_answer,
        }
        if show_answer:
            # The hidden lists are read only now: an unknown's page never has them in memory.
            prefetch_related_objects([self.case], *Case.ANSWER_LISTS)
            context["revealed_series"] = self.revealed_series
        return context

    def viewer_data(self, *, show_answer: bool) -> dict:
        """Describe for the viewer the stages this reader may see now, with their images and annotations.

        Stages and annotations marked "shown after reveal" are left out until the answer is shown, so a
        deep link or a hand-made request cannot reach them earlier.
        """
        series_list = self.presented_series + (self.revealed_series if show_answer else [])
        images = [image for series in series_list for image in series.images.all()]
        annotations = Annotation.objects.all() if show_answer else Annotation.objects.presented()
        prefetch_related_objects(images, Prefetch("annotations", queryset=annotations))
        return {
            "case": self.case.number,
            "revealed": show_answer,
            "series": [_series_data(series, number) for number, series in enumerate(series_list, start=1)],
        }


def series_viewer_data(case: Case, series: Series, *, annotations: bool) -> dict:
    """Describe one stage shown before the reveal for the viewer alone, as a quiz question shows it."""
    prefetch_related_objects([series], Prefetch("images", queryset=Image.objects.shown()))
    return {"case": case.number, "revealed": False, "series": [_series_data(series, 1, annotations=annotations)]}


def _series_data(series: Series, number: int, *, annotations: bool = True) -> dict:
    return {
        "id": series.pk,
        "number": number,
        "label": series.label,
        "modality": series.modality,
        "afterReveal": series.after_reveal,
        "cine": series.phase == Phase.FLOW,
        "presets": [
            {"name": window.name.capitalize(), "center": window.center, "width": window.width}
            for window in render.presets_for_part(series.modality, series.body_part)
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
        "center": image.window_center,
        "window": image.window_width,
        # A quiz question shows the stage bare: the key slice and the captions could point at the answer.
        "key": image.is_key if annotations else False,
        "caption": image.caption if annotations else "",
        "alt": image.alt_text or series.label,
        "annotations": [annotation_data(mark) for mark in image.annotations.all()] if annotations else [],
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
