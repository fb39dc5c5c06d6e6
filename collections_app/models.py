"""A collection: an ordered set of cases, shared with groups by faculty or private to its owner."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse

from cases.models import Case


class CollectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CollectionQuerySet":
        """Return the collections this user may open: their own, and the shared ones of their groups (a shared
        collection without groups is for every logged-in user); editors see every shared one."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        own = Q(owner=user)
        if user.has_perm("collections_app.edit_any_collection"):
            return self.filter(own | Q(visibility=Collection.Visibility.SHARED))
        shared = Q(visibility=Collection.Visibility.SHARED) & (Q(groups__isnull=True) | Q(groups__in=user.groups.all()))
        return self.filter(pk__in=self.filter(own | shared).values("pk"))

    def editable_by(self, user) -> "CollectionQuerySet":
        """Return the collections this user may change: their own, and every shared one for editors (a private
        collection stays its owner's)."""
        if not user.is_active:
            return self.none()
        if user.has_perm("collections_app.edit_any_collection"):
            return self.filter(Q(owner=user) | Q(visibility=Collection.Visibility.SHARED))
        return self.filter(owner=user)


class Collection(models.Model):
    """An ordered set of cases read as unknowns one after the other."""

    class Visibility(models.TextChoices):
        SHARED = "shared", "Shared: the chosen groups (every logged-in user when none is chosen)"
        PRIVATE = "private", "Private: its owner only"

    slug = models.SlugField(
        max_length=80,
        unique=True,
        help_text="Part of the collection's address, seen before any case is revealed: like the title, it names "
        "no diagnosis of its cases.",
    )
    title = models.CharField(
        max_length=200,
        help_text="Name it by its use (“Tuesday conference”, “MSK rotation, week 2”), never by a diagnosis of its "
        "cases, unless it is a topic collection.",
    )
    description = models.TextField(blank=True, help_text="Shown above its cases: the same rule as for the title.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.SHARED)
    groups = models.ManyToManyField(
        Group, blank=True, related_name="+", help_text="Who may open a shared collection; empty: every logged-in user."
    )
    is_topic = models.BooleanField(
        "topic collection",
        default=False,
        help_text="Its title may name the diagnosis its cases share; its page says so before the first case opens.",
    )
    cases = models.ManyToManyField(Case, through="CollectionEntry", related_name="collections")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        permissions = [("edit_any_collection", "Can edit any collection")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("collections:collection-detail", args=[self.slug])


class CollectionEntry(models.Model):
    """A case's place in a collection."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="entries")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="collection_entries")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name_plural = "collection entries"
        constraints = [models.UniqueConstraint(fields=["collection", "case"], name="case_once_per_collection")]
        indexes = [models.Index(fields=["collection", "order", "id"], name="collection_entry_order")]

    def __str__(self) -> str:
        return f"Place {self.order}"
