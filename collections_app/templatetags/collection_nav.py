"""The case page's per-reader collection parts: where this case stands in the collection the reader came from."""

from django import template

from ..forms import AddToCollectionForm
from ..selectors import collection_beside_case

register = template.Library()


@register.simple_tag(takes_context=True)
def collection_beside(context, case):
    """Return the collection of ``?collection=`` as this reader stands with it, or None (see the selector)."""
    return collection_beside_case(context["request"], case)


@register.simple_tag(takes_context=True)
def add_to_collection_form(context):
    """Return the "add to my collection" form for a logged-in reader, or None."""
    user = context["request"].user
    return AddToCollectionForm(owner=user, auto_id="add_%s") if user.is_authenticated else None
