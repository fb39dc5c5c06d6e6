from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo.quizzes import quiz_demo_load


class Command(BaseCommand):
    help = "Load the demonstration quizzes on the demo cases (idempotent; run after load_demo)."

    def handle(self, *args, **options):
        authors = get_user_model().objects.filter(username="faculty")
        created = quiz_demo_load(
            questions_path=settings.BASE_DIR / "fixtures" / "quiz_questions.json",
            quizzes_path=settings.BASE_DIR / "fixtures" / "quizzes.json",
            authors=authors,
        )
        self.stdout.write(f"created {len(created)} demo questions and quizzes" if created else "demo quizzes kept")
