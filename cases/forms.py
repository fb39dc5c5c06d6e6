import json
from typing import ClassVar

from django import forms
from django.forms.boundfield import BoundField

from imaging import mask

from .models import (
    DIFFERENTIAL_ENTRIES,
    Annotation,
    CaseReview,
    Image,
    Modality,
    Rating,
    Region,
    Reveal,
    RevealDifferential,
    Series,
)
from .workflow import allowed_statuses

# The id of the page's list of topic names the differential's boxes suggest from (filled by case.js).
DIFFERENTIAL_NAMES_LIST = "differential-names"
PLACES = ("Most likely", "Second", "Third")


class BlankFieldOnce(BoundField):
    """A field of a form whose blank widget is the same on every request, rendered once per process.

    For forms whose fields, choices (``TextChoices``) and attributes come from code alone: a blank (unbound,
    no initial data) form's widgets are then a constant, and Django's widget templates cost ~0.25 ms each per
    request (docs/benchmarks.md). A bound form, initial data or a callable initial value renders as usual.
    """

    rendered: ClassVar[dict[tuple, str]] = {}

    def as_widget(self, widget=None, attrs=None, only_initial=False):
        form = self.form
        if form.is_bound or form.initial or widget or attrs or only_initial or callable(self.field.initial):
            return super().as_widget(widget, attrs, only_initial)
        key = (type(form), form.prefix, form.auto_id, self.name)
        if key not in self.rendered:
            self.rendered[key] = super().as_widget()
        return self.rendered[key]


class CaseFilterForm(forms.Form):
    """The filters of the case list; every field is optional."""

    bound_field_class = BlankFieldOnce

    q = forms.CharField(label="Search", required=False, max_length=100)
    modality = forms.ChoiceField(choices=[("", "Any modality"), *Modality.choices], required=False)
    region = forms.ChoiceField(choices=[("", "Any region"), *Region.choices], required=False)
    difficulty = forms.TypedChoiceField(
        choices=[("", "Any difficulty"), *Rating.choices], coerce=int, empty_value=None, required=False
    )

    def filter(self, queryset):
        """Return the queryset narrowed by the filters that were understood (the search is cases.search's)."""
        data = self.cleaned_data
        if data.get("modality"):
            presented = Series.objects.open().filter(modality=data["modality"])
            queryset = queryset.filter(pk__in=presented.values("case"))
        if data.get("region"):
            queryset = queryset.filter(region=data["region"])
        if data.get("difficulty"):
            queryset = queryset.filter(difficulty=data["difficulty"])
        return queryset


class RevealForm(forms.Form):
    """What a reader commits to before the reveal, all optional: a diagnosis and a differential of up to three.

    ``cleaned_data["differential"]`` holds the entries in the order typed, blanks and repeats left out, each
    with its runs of white space made one space.
    """

    bound_field_class = BlankFieldOnce
    names_list = DIFFERENTIAL_NAMES_LIST
    committed_answer = forms.CharField(
        label="Your diagnosis",
        required=False,
        max_length=Reveal._meta.get_field("committed_answer").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Type your diagnosis (optional)"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = RevealDifferential._meta.get_field("text").max_length
        for rank in range(1, DIFFERENTIAL_ENTRIES + 1):
            self.fields[f"differential_{rank}"] = forms.CharField(
                label=f"Differential {rank}",
                required=False,
                max_length=limit,
                error_messages={
                    "max_length": f"Differential {rank} is too long: keep it to %(limit_value)d characters "
                    "(it has %(show_value)d)."
                },
                widget=forms.TextInput(
                    attrs={"autocomplete": "off", "list": self.names_list, "placeholder": PLACES[rank - 1]}
                ),
            )

    def differential_fields(self) -> list[forms.BoundField]:
        return [self[f"differential_{rank}"] for rank in range(1, DIFFERENTIAL_ENTRIES + 1)]

    def clean(self):
        cleaned = super().clean()
        entries: list[str] = []
        for rank in range(1, DIFFERENTIAL_ENTRIES + 1):
            text = " ".join(cleaned.get(f"differential_{rank}", "").split())
            if text and text.casefold() not in {entry.casefold() for entry in entries}:
                entries.append(text)
        cleaned["differential"] = entries
        return cleaned

    def first_error(self) -> str:
        """Return the message of the first field refused, to show the reader beside the form."""
        return next(iter(self.errors.values()))[0]


class AssessmentForm(forms.Form):
    self_assessment = forms.ChoiceField(choices=Reveal.Assessment.choices[1:])


class StoredTextField(forms.CharField):
    """A textarea's text with line ends as stored: browsers post CRLF, the content is LF, so saving text nobody
    touched changes nothing (and the case's history records nothing)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


class CaseStatusField(forms.ChoiceField):
    """Status choices limited to the workflow moves this user may make."""

    def __init__(self, *, user, current: str | None, **kwargs):
        allowed = allowed_statuses(current=current, user=user)
        super().__init__(choices=[(status.value, status.label) for status in allowed], **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is validated later, one by one."""

    def __init__(self, *, accept: str = "image/png,image/jpeg", directory: bool = False, **kwargs):
        attrs = {"accept": accept} if accept else {}
        if directory:
            attrs["webkitdirectory"] = True
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        super().__init__(required=False, allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


class AnnotationForm(forms.ModelForm):
    """One arrow, ellipse or text label of the annotation editor."""

    class Meta:
        model = Annotation
        fields = ["kind", "x1", "y1", "x2", "y2", "label", "after_reveal"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Annotation.Kind.TEXT and not cleaned.get("label", "").strip():
            self.add_error("label", "A text label needs its text.")
        return cleaned


class AnnotationSetForm(forms.Form):
    """All the annotations of one image as the editor posts them.

    The body is JSON: ``{"annotations": [{"kind", "points": [x1, y1, x2, y2], "label", "after_reveal"}]}``,
    points in fractions of the image's width and height.
    """

    MAX_ANNOTATIONS = 50
    POINTS = ("x1", "y1", "x2", "y2")

    body = forms.CharField(
        max_length=20_000,
        strip=False,
        error_messages={
            "required": "Nothing was sent: the annotations come as JSON in the request body.",
            "max_length": "Too much to save at once: at most 50 annotations with short labels.",
        },
    )

    def clean_body(self) -> list[dict]:
        try:
            data = json.loads(self.cleaned_data["body"])
        except (ValueError, RecursionError) as error:
            raise forms.ValidationError("The drawing could not be read: the request is not valid JSON.") from error
        items = data.get("annotations") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise forms.ValidationError("The request must be an object with a list of annotations.")
        if len(items) > self.MAX_ANNOTATIONS:
            raise forms.ValidationError(f"At most {self.MAX_ANNOTATIONS} annotations per image.")
        return [self._clean_annotation(number, item) for number, item in enumerate(items, start=1)]

    def _clean_annotation(self, number: int, item) -> dict:
        points = item.get("points") if isinstance(item, dict) else None
        if not (isinstance(points, list) and len(points) == 4):
            raise forms.ValidationError(f"Annotation {number}: give exactly four points [x1, y1, x2, y2].")
        if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in points):
            raise forms.ValidationError(f"Annotation {number}: the points must be numbers.")
        if not all(0 <= value <= 1 for value in points):
            raise forms.ValidationError(f"Annotation {number}: points are fractions of the image, from 0 to 1.")
        label, after_reveal = item.get("label", ""), item.get("after_reveal", True)
        if not isinstance(label, str) or not isinstance(after_reveal, bool):
            raise forms.ValidationError(f"Annotation {number}: the label must be text, “after reveal” true or false.")
        fields = {"kind": item.get("kind"), "label": label, "after_reveal": after_reveal}
        form = AnnotationForm(fields | dict(zip(self.POINTS, points, strict=True)))
        if not form.is_valid():
            problems = {"points" if name in self.POINTS else name: errors for name, errors in form.errors.items()}
            described = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in problems.items())
            raise forms.ValidationError(f"Annotation {number}: {described}")
        return form.cleaned_data


REVIEW_COMMENTS_LIMIT = CaseReview._meta.get_field("comments").max_length


class ReturnForm(forms.Form):
    """The comments an editor sends back with cases returned to their authors."""

    comments = forms.CharField(
        label="Comments for the authors",
        max_length=REVIEW_COMMENTS_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="What should change before the case is submitted again. The authors see it on the case.",
        error_messages={"required": "Write what the authors should change."},
    )


class EditorDecisionForm(forms.Form):
    """An editor's decision whose ``RETURN`` choice needs comments; subclasses give the ``decision`` field."""

    RETURN = "return"
    return_needs = "Write what the authors should change."

    comments = forms.CharField(
        required=False,
        max_length=REVIEW_COMMENTS_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.RETURN and not cleaned.get("comments", "").strip():
            self.add_error("comments", self.return_needs)
        return cleaned

    def error_text(self) -> str:
        return " ".join(message for messages in self.errors.values() for message in messages)


class ReviewDecisionForm(EditorDecisionForm):
    """An editor's decision on a case in review; returning it needs comments for the authors."""

    PUBLISH = "publish"

    decision = forms.ChoiceField(choices=[(PUBLISH, "Publish"), (EditorDecisionForm.RETURN, "Return to the authors")])


MASK_TEXT_LIMIT = 2000


def mask_rectangles_from_text(text: str, *, width: int, height: int) -> list[list[int]]:
    """Read "x,y,width,height; …" (web-image pixels) as rectangles clipped to the image; raise ValidationError."""
    text = text.strip()
    if not text:
        return []
    try:
        rectangles = [[int(value) for value in part.split(",")] for part in text.split(";") if part.strip()]
    except ValueError as error:
        raise forms.ValidationError("Write each rectangle as four whole numbers: x,y,width,height.") from error
    try:
        return [list(rectangle) for rectangle in mask.clip_rectangles(rectangles, width=width, height=height)]
    except mask.MaskError as error:
        raise forms.ValidationError(str(error)) from error


def mask_rectangles_as_text(rectangles: list[list[int]]) -> str:
    """Write rectangles as the mask field reads them: "x,y,width,height; …"."""
    return "; ".join(",".join(str(int(value)) for value in rectangle) for rectangle in rectangles)


class ImageCheckForm(forms.Form):
    """The case's one page of checks: each held image confirmed clean, masked or deleted; imported stages'
    labels confirmed.

    ``held`` and ``unconfirmed`` are what the case still holds: anything else posted is refused. A held image's
    mask field starts with the boxes the import found text in (``Image.text_regions``), so masking it is a
    confirmation rather than a drawing.
    """

    CLEAR, MASK, DELETE = "clear", "mask", "delete"
    CHECKS = [("", "Not checked yet"), (CLEAR, "No identifying text"), (MASK, "Mask the boxes"), (DELETE, "Delete")]

    def __init__(self, *args, held: list[Image], unconfirmed: list[Series], **kwargs):
        super().__init__(*args, **kwargs)
        self.held = {image.pk: image for image in held}
        self.unconfirmed = {series.pk: series for series in unconfirmed}
        self.fields["labels"] = forms.TypedMultipleChoiceField(
            choices=[(pk, pk) for pk in self.unconfirmed], coerce=int, required=False
        )
        for pk, image in self.held.items():
            self.fields[f"check-{pk}"] = forms.ChoiceField(
                choices=self.CHECKS, required=False, widget=forms.RadioSelect
            )
            self.fields[f"mask-{pk}"] = forms.CharField(
                required=False,
                max_length=MASK_TEXT_LIMIT,
                initial=mask_rectangles_as_text(image.text_regions),
                widget=forms.TextInput(attrs={"class": "mask-rectangles"}),
            )

    def clean(self):
        cleaned = super().clean()
        cleaned["masks"], cleaned["clear_images"], cleaned["delete_images"] = [], [], []
        for pk, image in self.held.items():
            check = cleaned.get(f"check-{pk}")
            if check == self.CLEAR:
                cleaned["clear_images"].append(image)
            elif check == self.DELETE:
                cleaned["delete_images"].append(image)
            elif check == self.MASK:
                try:
                    rectangles = mask_rectangles_from_text(
                        cleaned.get(f"mask-{pk}", ""), width=image.width, height=image.height
                    )
                except forms.ValidationError as error:
                    self.add_error(f"mask-{pk}", error)
                    continue
                if not rectangles:
                    self.add_error(f"mask-{pk}", "Draw a mask over the text, or choose another check.")
                    continue
                cleaned["masks"].append((image, rectangles))
        cleaned["label_series"] = [self.unconfirmed[pk] for pk in cleaned.get("labels", [])]
        done = cleaned["masks"] or cleaned["clear_images"] or cleaned["delete_images"] or cleaned["label_series"]
        if not (done or self.errors):
            raise forms.ValidationError("Choose a check for the images you have looked at, then save.")
        return cleaned


class ProposedRowsFormSet(forms.BaseInlineFormSet):
    """A list of the case form (findings, differential, references) that shows a revision's proposed rows.

    ``proposed`` (rows as ``cases.revisions`` stores them) replaces the stored rows on the page: stored rows the
    revision keeps show its values, rows it adds come as extra forms, rows it deletes are left out.
    """

    def __init__(self, *args, proposed: list[dict] | None = None, **kwargs):
        self.proposed = proposed
        if proposed is not None and not args and kwargs.get("data") is None:
            added = [{name: value for name, value in row.items() if name != "id"} for row in proposed if not row["id"]]
            self.extra, kwargs["initial"] = len(added), added
        super().__init__(*args, **kwargs)

    def get_queryset(self):
        stored = super().get_queryset()
        if self.proposed is None:
            return stored
        if not hasattr(self, "proposed_rows"):
            by_id = {row.pk: row for row in stored}
            self.proposed_rows = []
            for values in self.proposed:
                row = by_id.get(values["id"])
                if row is None:
                    continue
                for name, value in values.items():
                    if name != "id":
                        setattr(row, self.model._meta.get_field(name).attname, value)
                self.proposed_rows.append(row)
        return self.proposed_rows


class RevisionDecisionForm(EditorDecisionForm):
    """An editor's decision on a faculty author's changes to a published case; a return needs comments."""

    APPROVE = "approve"
    return_needs = "Write what the author should change."

    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (EditorDecisionForm.RETURN, "Return to the author")])
