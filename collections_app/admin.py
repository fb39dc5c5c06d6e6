"""The authoring screen for collections: faculty order cases into sets and share them with groups."""

from django import forms
from django.contrib import admin
from django.db.models import Q

from cases.models import Case

from .models import Collection, CollectionEntry
from .services import CollectionRefused, collection_check_words


class EntryFormSet(forms.BaseInlineFormSet):
    """The collection's words are checked against the cases it will hold once saved."""

    def clean(self):
        super().clean()
        kept = [form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        cases = Case.objects.filter(pk__in=[data["case"].pk for data in kept if data.get("case")])
        try:
            collection_check_words(collection=self.instance, cases=cases.select_related("topic"))
        except CollectionRefused as error:
            raise forms.ValidationError(str(error)) from None


class EntryForm(forms.ModelForm):
    """A case every reader of a shared collection could open (published, never private), or the one it holds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = Q(status=Case.Status.PUBLISHED) & ~Q(access=Case.Access.PRIVATE)
        if self.instance.case_id:  # retired or made private since: kept, not refused on the next save
            allowed |= Q(pk=self.instance.case_id)
        self.fields["case"].queryset = Case.objects.filter(allowed).order_by("number")


class EntryInline(admin.TabularInline):
    model = CollectionEntry
    form = EntryForm
    formset = EntryFormSet
    extra = 3
    fields = ["order", "case"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "case":  # a collection picks cases; editing them is the case screen's, for their authors
            field.widget.can_add_related = field.widget.can_change_related = field.widget.can_view_related = False
        return field


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["title", "visibility", "is_topic", "owner", "updated"]
    list_filter = ["visibility", "is_topic"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "description", "visibility", "groups", "is_topic"]
    filter_horizontal = ["groups"]
    inlines = [EntryInline]

    def get_queryset(self, request):
        return Collection.objects.editable_by(request.user).select_related("owner")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)
