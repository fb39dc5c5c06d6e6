"""Topics: diagnosis articles with their sections, classification systems and references."""

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Topic(models.Model):
    """A diagnosis article; cases link to the topic of their diagnosis."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    synonyms = models.TextField(
        blank=True,
        help_text="One per line: abbreviations and other names (used to mark typed answers).",
    )
    summary = models.TextField(help_text="One to three plain sentences: what the diagnosis is.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cases:topic-detail", kwargs={"slug": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def synonym_list(self) -> list[str]:
        return [line.strip() for line in self.synonyms.splitlines() if line.strip()]


class TopicSection(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(default=0)
    heading = models.CharField(max_length=120)
    body = models.TextField(help_text="Markdown: lists, ### sub-headings, **bold**, links.")

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.heading


class ClassificationSystem(models.Model):
    """A grading system of a topic, such as the Brooker classification."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="classifications")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown.")

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class ClassificationGrade(models.Model):
    system = models.ForeignKey(ClassificationSystem, on_delete=models.CASCADE, related_name="grades")
    order = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=40, help_text="For example “Grade 2” or “B”.")
    description = models.TextField()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.label


WEB_SCHEMES = ["http", "https"]


class Reference(models.Model):
    """A citation; a topic's or a case's references list."""

    order = models.PositiveSmallIntegerField(default=0)
    citation = models.TextField()
    url = models.URLField(
        blank=True,
        max_length=500,
        validators=[URLValidator(schemes=WEB_SCHEMES)],
        help_text="A web address starting with https:// or http://; readers get it as a link.",
    )

    class Meta:
        abstract = True
        ordering = ["order", "pk"]
        constraints = [
            # Rows written without the form (fixtures, bulk loads) cannot carry javascript:, data: or ftp: links.
            models.CheckConstraint(
                condition=Q(url="") | Q(url__istartswith="http://") | Q(url__istartswith="https://"),
                name="%(app_label)s_%(class)s_url_web",
            ),
        ]

    def __str__(self) -> str:
        return self.citation[:80]

    def web_url(self) -> str:
        """Return the address to link to: the URL when it is a web (http or https) address, else nothing."""
        scheme, _, rest = self.url.partition("://")
        return self.url if rest and scheme.lower() in WEB_SCHEMES else ""


class TopicReference(Reference):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="references")

    class Meta(Reference.Meta):
        pass
