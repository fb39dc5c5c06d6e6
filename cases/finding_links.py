"""A finding's link to the view that shows it: a stage, slice, window and arrow, checked against the case.

Authors set it with "Link current view" in the case page's viewer; readers see it once the answer is shown
(the findings list is part of the answer), and clicking it opens the viewer on that view with the arrow
picked out (the viewer's deep-link format, static/js/viewer/deeplink.js, with ``mark`` for the arrow).
"""

import logging
import math
from dataclasses import dataclass

from django import forms
from django.db import transaction

from .models import Annotation, CaseFinding, Image, Series

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FindingView:
    """A checked view of one of the case's stages: slice counted from 1, window and arrow when given."""

    series: Series
    slice: int
    center: float | None = None
    width: float | None = None
    annotation: Annotation | None = None


class FindingViewForm(forms.Form):
    """The view posted by the viewer, as its deep links name it: series, slice, wl, ww and mark (an arrow)."""

    series = forms.IntegerField(min_value=1)
    slice = forms.IntegerField(min_value=1, max_value=32767)
    wl = forms.FloatField(required=False)
    ww = forms.FloatField(required=False)
    mark = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, finding: CaseFinding, **kwargs):
        super().__init__(*args, **kwargs)
        self.finding = finding

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        series = Series.objects.shown().filter(case_id=self.finding.case_id, pk=cleaned["series"]).first()
        if series is None:
            raise forms.ValidationError("That stage is not one of this case's stages.")
        images = list(Image.objects.shown().filter(series=series).values_list("pk", flat=True))
        if cleaned["slice"] > len(images):
            raise forms.ValidationError(f"That stage has {len(images)} image(s): no image {cleaned['slice']}.")
        center, width = cleaned.get("wl"), cleaned.get("ww")
        if (center is None) != (width is None):
            raise forms.ValidationError("Give both the window's level and width, or neither.")
        if width is not None and not (math.isfinite(center) and math.isfinite(width) and width > 0):
            raise forms.ValidationError("The window's width must be above zero.")
        annotation = None
        if cleaned.get("mark") is not None:
            annotation = Annotation.objects.filter(pk=cleaned["mark"], image_id=images[cleaned["slice"] - 1]).first()
            if annotation is None:
                raise forms.ValidationError("That arrow is not on this image.")
        cleaned["view"] = FindingView(
            series=series, slice=cleaned["slice"], center=center, width=width, annotation=annotation
        )
        return cleaned

    def first_error(self) -> str:
        return next(message for messages in self.errors.values() for message in messages)


@transaction.atomic
def finding_link_view(*, finding: CaseFinding, view: FindingView | None) -> CaseFinding:
    """Link the finding to this checked view, or remove its link when ``view`` is None."""
    finding.view_series = view.series if view else None
    finding.view_slice = view.slice if view else None
    finding.view_center = view.center if view else None
    finding.view_width = view.width if view else None
    finding.view_annotation = view.annotation if view else None
    # Only the link: the finding's text and order, read before, may have been edited meanwhile.
    finding.save(update_fields=["view_series", "view_slice", "view_center", "view_width", "view_annotation"])
    logger.info("Finding %s of case %s %s", finding.pk, finding.case_id, "linked to a view" if view else "unlinked")
    return finding
