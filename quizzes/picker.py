"""The question editor's picker: a case's stages and images as the author picks from them (thumbnails, each
stack's slices), and the rule that a question's image or stage comes from a case its author may edit."""

from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse

from cases.models import Annotation, Case, Image, Series

NOT_YOURS = "Pick images only from a case you may edit: this one is not yours."


def _media(name: str) -> str:
    return reverse("cases:media-file", args=[name]) if name else ""


def case_picker_data(*, case: Case) -> dict:
    """The stages shown before the reveal and the case's first gate with their images, in order, as the picker
    lists them.

    A stack lists every slice (its ``key`` is the slice the page shows, 0-based) so the author can move through
    it; ``arrows`` says a stage has arrows shown before the reveal, which a click question may not use.
    """
    arrows = Annotation.objects.presented().filter(image__series=OuterRef("pk"))
    stages = (
        Series.objects.filter(case=case)
        .open()
        .annotate(arrows=Exists(arrows))
        .prefetch_related(Prefetch("images", queryset=Image.objects.shown()))
    )
    listed = []
    for number, stage in enumerate(stages, start=1):
        images = list(stage.images.all())
        if not images:
            continue
        key = stage.key_images[0] if stage.is_stack else images[0]
        listed.append(
            {
                "id": stage.pk,
                "label": f"Stage {number}: {stage.label}",
                "stack": stage.is_stack,
                "key": images.index(key),
                "arrows": stage.arrows,
                "images": [
                    {
                        "id": image.pk,
                        "src": _media(image.file.name),
                        "thumb": _media(image.thumbnail.name) or _media(image.file.name),
                        "width": image.width,
                        "height": image.height,
                    }
                    for image in images
                ],
            }
        )
    return {"case": case.number, "stages": listed}


def pick_problem(*, user, picked: Image | Series | None) -> str | None:
    """Say why ``user`` may not put this image or stage in a question (None when they may)."""
    if picked is None:
        return None
    case_id = picked.series.case_id if isinstance(picked, Image) else picked.case_id
    if not Case.objects.editable_by(user).filter(pk=case_id).exists():
        return NOT_YOURS
    return None
