"""Reads that combine a case with who is looking at it."""

from dataclasses import dataclass

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest

from .models import Case, Reveal, Series


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
