"""Load the demonstration topic and cases from ``fixtures/demo.json``.

Images are synthetic phantoms rendered by ``cases.phantoms`` and stored through
the same preparation path as an author's upload. Loading is idempotent: a topic
or case that already exists (by slug or case number) is left as it is, so
edits made in the authoring screen survive another ``make run``.
"""

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import phantoms, services
from .models import (
    Case,
    CaseFinding,
    CaseReference,
    ClassificationGrade,
    ClassificationSystem,
    DifferentialEntry,
    Series,
    Topic,
    TopicReference,
    TopicSection,
)

CASE_FIELDS = [
    "title",
    "credit",
    "difficulty",
    "quality",
    "patient_age_years",
    "patient_sex",
    "region",
    "acr_anatomy",
    "acr_pathology",
    "brief_history",
    "full_history",
    "diagnosis",
    "discussion",
    "management",
    "rehabilitation",
    "teaching_points",
]
SERIES_FIELDS = ["modality", "phase", "plane", "sequence", "technique", "caption", "after_reveal"]


@dataclass
class DemoReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def demo_load(*, path: Path, authors=(), status: str = Case.Status.PUBLISHED) -> DemoReport:
    """Create the topics and cases of a demo file that do not exist yet."""
    content = json.loads(Path(path).read_text(encoding="utf-8"))
    report = DemoReport()
    for data in content["topics"]:
        if Topic.objects.filter(slug=data["slug"]).exists():
            report.kept.append(f"topic {data['slug']}")
        else:
            _topic_create(data)
            report.created.append(f"topic {data['slug']}")
    for data in content["cases"]:
        if Case.objects.filter(number=data["number"]).exists():
            report.kept.append(f"case {data['number']}")
        else:
            _case_create(data, authors=authors, status=status)
            report.created.append(f"case {data['number']}")
    return report


@transaction.atomic
def _topic_create(data: dict) -> Topic:
    topic = Topic(slug=data["slug"], name=data["name"], synonyms="\n".join(data["synonyms"]), summary=data["summary"])
    topic.full_clean()
    topic.save()
    TopicSection.objects.bulk_create(
        TopicSection(topic=topic, order=order, heading=section["heading"], body=section["body"])
        for order, section in enumerate(data["sections"], start=1)
    )
    for order, system_data in enumerate(data["classifications"], start=1):
        system = ClassificationSystem.objects.create(
            topic=topic, order=order, name=system_data["name"], description=system_data["description"]
        )
        ClassificationGrade.objects.bulk_create(
            ClassificationGrade(
                system=system, order=grade_order, label=grade["label"], description=grade["description"]
            )
            for grade_order, grade in enumerate(system_data["grades"], start=1)
        )
    TopicReference.objects.bulk_create(
        TopicReference(topic=topic, order=order, citation=reference["citation"], url=reference.get("url", ""))
        for order, reference in enumerate(data["references"], start=1)
    )
    return topic


@transaction.atomic
def _case_create(data: dict, *, authors, status: str) -> Case:
    case = Case(
        number=data["number"],
        topic=Topic.objects.get(slug=data["topic"]) if data.get("topic") else None,
        keywords=", ".join(data["keywords"]),
        status=status,
        **{name: data[name] for name in CASE_FIELDS},
    )
    case.full_clean()
    case.save()
    case.authors.set(authors)
    CaseFinding.objects.bulk_create(
        CaseFinding(case=case, order=order, text=text) for order, text in enumerate(data["findings"], start=1)
    )
    DifferentialEntry.objects.bulk_create(
        DifferentialEntry(case=case, order=order, diagnosis=entry["diagnosis"], reasoning=entry["reasoning"])
        for order, entry in enumerate(data["differential"], start=1)
    )
    CaseReference.objects.bulk_create(
        CaseReference(case=case, order=order, citation=reference["citation"], url=reference.get("url", ""))
        for order, reference in enumerate(data["references"], start=1)
    )
    for order, series_data in enumerate(data["series"], start=1):
        series = Series(case=case, order=order, **{name: series_data[name] for name in SERIES_FIELDS})
        series.full_clean()
        series.save()
        for image_order, image_data in enumerate(series_data["images"], start=1):
            picture = phantoms.render(image_data["phantom"], **image_data.get("options", {}))
            buffer = io.BytesIO()
            picture.save(buffer, format="PNG")
            buffer.seek(0)
            services.image_create(
                series=series,
                prepared=services.image_prepare(buffer),
                order=image_order,
                caption=image_data["caption"],
                alt_text=image_data["alt"],
            )
    return case
