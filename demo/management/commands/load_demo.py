from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import DEMO_ACCOUNTS, demo_accounts_ensure
from demo.cases import demo_load


class Command(BaseCommand):
    help = "Load the demonstration topic and cases (idempotent); with --accounts, the demo accounts too."

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", type=Path, default=settings.BASE_DIR / "fixtures" / "demo.json", help="Demo content file."
        )
        parser.add_argument(
            "--accounts",
            action="store_true",
            help="Create the demo accounts, whose passwords are public. Never on a real site.",
        )

    def handle(self, *args, path: Path, accounts: bool, **options):
        authors = []
        if accounts:
            users = demo_accounts_ensure()
            authors = [users["faculty"]]
        report = demo_load(path=path, authors=authors)
        for item in report.created:
            self.stdout.write(f"created {item}")
        for item in report.kept:
            self.stdout.write(f"kept    {item} (already there)")
        if accounts:
            self.stdout.write(self.style.SUCCESS("\nDemo accounts (username / password / role / e-mail):"))
            for username, password, role, _, email in DEMO_ACCOUNTS:
                self.stdout.write(f"  {username:<10} {password:<10} {role:<10} {email}")
