"""The topic screens: a diagnosis article with its sections, classification systems and references."""

from django.contrib import admin
from django.db import models

from ..models import ClassificationGrade, ClassificationSystem, Topic, TopicReference, TopicSection


class TopicSectionInline(admin.StackedInline):
    model = TopicSection
    extra = 0


class ClassificationInline(admin.TabularInline):
    model = ClassificationSystem
    extra = 0
    show_change_link = True


class TopicReferenceInline(admin.TabularInline):
    model = TopicReference
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "updated"]
    search_fields = ["name", "synonyms"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TopicSectionInline, ClassificationInline, TopicReferenceInline]


class GradeInline(admin.TabularInline):
    model = ClassificationGrade
    extra = 0


@admin.register(ClassificationSystem)
class ClassificationSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "topic"]
    inlines = [GradeInline]

    def get_model_perms(self, request):
        # Reached from the topic page, not from the index.
        return {}
