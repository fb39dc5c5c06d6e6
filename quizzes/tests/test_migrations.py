"""Polygon targets came with a migration: a circle question made before it keeps its circle and is marked by it."""

import os
import subprocess
import sys

from django.conf import settings

# Run in a fresh process on a database of its own: a click question written by the migrations as they stood
# before polygons, then its app migrated to today's state and marked through today's models.
SCRIPT = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", "quizzes", "0002_quiz_text_names_no_diagnosis", verbosity=0)
before = MigrationExecutor(connection).loader.project_state(("quizzes", "0002_quiz_text_names_no_diagnosis")).apps
Case, Series = before.get_model("cases", "Case"), before.get_model("cases", "Series")
Question = before.get_model("quizzes", "Question")
case = Case.objects.create(number="old1", title="A case", brief_history="Pain.", diagnosis="Secret")
series = Series.objects.create(case=case, modality="CT")
Question.objects.create(
    key="old-circle", kind="click", stem="Mark it.", case=case, series=series,
    target_x=0.5, target_y=0.5, target_radius=0.1, slice_from=2, slice_to=3,
)

call_command("migrate", "quizzes", verbosity=0)
from quizzes.models import Question
from quizzes.scoring import click_hits
question = Question.objects.get(key="old-circle")
print(question.target_shape, question.target_points, question.target_x, question.target_radius)
target = question.target
print(click_hits(target, x=0.55, y=0.5, slice_number=2), click_hits(target, x=0.7, y=0.5, slice_number=2))
"""


def test_a_circle_question_made_before_polygons_keeps_its_circle(tmp_path):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'before-polygons.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["circle [] 0.5 0.1", "True False"]
