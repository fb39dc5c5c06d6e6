"""Plain factories for tests: ``make_collection(cases=..., **overrides)``."""

import itertools

from collections_app.models import Collection, CollectionEntry

_numbers = itertools.count(1)


def make_collection(*, owner, cases=(), groups=(), **overrides) -> Collection:
    number = next(_numbers)
    fields = {"slug": f"set-{number}", "title": f"Conference {number}", "visibility": Collection.Visibility.SHARED}
    collection = Collection.objects.create(owner=owner, **{**fields, **overrides})
    collection.groups.set(groups)
    CollectionEntry.objects.bulk_create(
        CollectionEntry(collection=collection, case=case, order=order) for order, case in enumerate(cases, start=1)
    )
    return collection
