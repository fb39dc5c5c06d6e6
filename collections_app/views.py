"""Pages of the collections: the list, a collection's progress, and "add to my collection" from a case page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from cases.models import Case

from . import services
from .forms import AddToCollectionForm
from .models import Collection
from .selectors import collection_for_reader, collection_progress


@require_safe
@login_required
def collection_list(request):
    collections = Collection.objects.visible_to(request.user).select_related("owner__profile")
    return render(request, "collections/collection_list.html", {"collections": collections})


@require_safe
@login_required
def collection_detail(request, slug: str):
    collection = collection_for_reader(request, slug)
    progress = collection_progress(request, collection, cards=True)
    return render(
        request,
        "collections/collection_detail.html",
        {"collection": collection, "progress": progress, "next_unknown": progress.next_unknown()},
    )


@require_POST
@login_required
def collection_add_case(request, number: str):
    """Add a case the reader may open to one of their own collections, or to a new one named here."""
    case = get_object_or_404(Case.objects.published().visible_to(request.user), number=number)
    form = AddToCollectionForm(request.POST, owner=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(case)
    try:
        if form.cleaned_data["collection"]:
            collection = form.cleaned_data["collection"]
            services.collection_add_case(collection=collection, case=case)
        else:
            collection = services.collection_create_private(
                owner=request.user, title=form.cleaned_data["title"], case=case
            )
    except services.CollectionRefused as error:
        messages.error(request, str(error))
        return redirect(case)
    messages.success(request, f"Case {case.number} is in “{collection.title}”.")
    return redirect(f"{case.get_absolute_url()}?collection={collection.slug}")
