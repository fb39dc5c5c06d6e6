from django.db import models


class Row(models.Model):
    """A row of the baseline's one table."""

    title = models.CharField(max_length=200)
    summary = models.TextField()
    created = models.DateTimeField()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.title
