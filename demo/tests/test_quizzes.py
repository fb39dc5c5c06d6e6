"""The demo quizzes: feedback cites its sources by their real titles, also in a database loaded earlier."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command

from quizzes.models import Question

pytestmark = pytest.mark.django_db

QUESTIONS = settings.BASE_DIR / "fixtures" / "quiz_questions.json"


def test_demo_feedback_cites_sources_by_title_and_never_an_internal_seed_document():
    bank = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    explanations = dict(Question.objects.filter(key__in=[q["key"] for q in bank]).values_list("key", "explanation"))
    assert len(explanations) == len(bank)
    assert not [key for key, text in explanations.items() if "seed" in text.lower()]
    radiopaedia = explanations["brooker-grade-3"]
    assert radiopaedia.endswith(
        'Source: Yap J, et al. "Heterotopic ossification." Radiopaedia.org, article last revised 18 Oct 2022.'
    )


def test_reloading_rewrites_feedback_that_cites_a_retired_source_and_keeps_the_rest():
    retired = json.loads(QUESTIONS.read_text(encoding="utf-8"))["retired_sources"]
    old, edited = Question.objects.filter(key__in=["brooker-grade-3", "brooker-grade-4-ankylosis"]).order_by("key")
    old.explanation = f"Grading rests on the gap.\n\nSource: {retired[2]}"
    old.save()
    edited.explanation = "An author's own explanation."
    edited.save()

    call_command("load_demo_quizzes", verbosity=0)

    old.refresh_from_db()
    edited.refresh_from_db()
    assert "seed" not in old.explanation.lower() and "Radiopaedia.org" in old.explanation
    assert edited.explanation == "An author's own explanation."
