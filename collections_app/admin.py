"""The authoring screen for collections: faculty order cases into sets and share them with groups."""

from django import forms
from django.contrib import admin

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


class EntryInline(admin.TabularInline):
    model = CollectionEntry
    formset = EntryFormSet
    extra = 3
    fields = ["order", "case"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "case":
            # Cases every reader of a shared collection could open: published, never private.
            kwargs["queryset"] = Case.objects.published().exclude(access=Case.Access.PRIVATE).order_by("number")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
