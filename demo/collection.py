"""The demo collection: the three demo cases as unknowns, one after the other.

Its title names no diagnosis (a non-topic collection), so the answer-leak walk reads real unknowns through it.
Idempotent: a collection that exists (by slug) is left as it is.
"""

from cases.models import Case
from collections_app.models import Collection, CollectionEntry

DEMO_COLLECTION = {
    "slug": "pelvis-and-hips-work-ups",
    "title": "Pelvis and hips: three work-ups",
    "description": "Three men with painful or stiff hips: read each as an unknown, commit to a diagnosis, then "
    "reveal it before you open the next.",
    "cases": ["tf101", "tf102", "tf103"],
}


def demo_collection_ensure(*, owner) -> tuple[Collection, bool]:
    """Create the demo collection, shared with every logged-in user, unless it exists; say whether it was made."""
    existing = Collection.objects.filter(slug=DEMO_COLLECTION["slug"]).first()
    if existing is not None:
        return existing, False
    fields = {name: DEMO_COLLECTION[name] for name in ("slug", "title", "description")}
    collection = Collection.objects.create(owner=owner, visibility=Collection.Visibility.SHARED, **fields)
    cases = {case.number: case for case in Case.objects.filter(number__in=DEMO_COLLECTION["cases"])}
    CollectionEntry.objects.bulk_create(
        CollectionEntry(collection=collection, case=cases[number], order=order)
        for order, number in enumerate(DEMO_COLLECTION["cases"], start=1)
        if number in cases
    )
    return collection, True
