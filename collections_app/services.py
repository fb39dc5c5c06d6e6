"""Writes: a reader's own collection made from a case page, and a case added at the end of a collection."""

from django.db import transaction
from django.db.models import Max
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from cases.models import Case

from .checks import text_naming_cases
from .models import Collection, CollectionEntry


class CollectionRefused(Exception):
    """The collection or the case cannot be added as asked; the message says why, in the reader's words."""


NAMES_A_DIAGNOSIS = (
    "The name {named} says what a case of the collection is, and the collection is read before its cases are "
    "revealed: name it by its use (“Call prep”, “Conference 12 May”)."
)


def collection_check_words(*, collection: Collection, cases) -> None:
    """Refuse a shared collection (not a topic collection) whose slug, title or description names a diagnosis or
    a topic of one of these cases.

    A private one is read by its owner only, who named it: refusing the name of an unknown's diagnosis would
    tell them their guess is right (an oracle before the reveal), so any name is theirs to keep.
    """
    if collection.is_topic or collection.visibility == Collection.Visibility.PRIVATE:
        return
    named = text_naming_cases(texts=[collection.slug, collection.title, collection.description], cases=cases)
    if named:
        raise CollectionRefused(NAMES_A_DIAGNOSIS.format(named=", ".join(f"“{name}”" for name in named)))


@transaction.atomic
def collection_add_case(*, collection: Collection, case: Case) -> CollectionEntry:
    """Put the case at the end of the collection (where it already is, it stays)."""
    cases = Case.objects.filter(collection_entries__collection=collection).select_related("topic")
    collection_check_words(collection=collection, cases=[*cases, case])
    entry = CollectionEntry.objects.filter(collection=collection, case=case).first()
    if entry is not None:
        return entry
    last = collection.entries.aggregate(last=Max("order"))["last"] or 0
    return CollectionEntry.objects.create(collection=collection, case=case, order=last + 1)


@transaction.atomic
def collection_create_private(*, owner, title: str, case: Case) -> Collection:
    """Make a private collection of this owner's, holding this case."""
    base = slugify(title)[:60] or "collection"
    collection = Collection(owner=owner, title=title, visibility=Collection.Visibility.PRIVATE)
    collection.slug = f"{base}-{get_random_string(6, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
    collection_check_words(collection=collection, cases=[case])
    collection.save()
    collection_add_case(collection=collection, case=case)
    return collection
