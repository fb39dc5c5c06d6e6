from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import DEMO_ACCOUNTS, demo_accounts_ensure
from demo.cases import demo_load
from demo.collection import demo_collection_ensure
from ingest.received import receiver_routes_ensure

# The demo's called AE titles: a study sent to one becomes a draft in that faculty account's inbox.
DEMO_ROUTES = {"TF_FACULTY": "faculty", "TF_FACULTY2": "faculty2"}


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
            routes = receiver_routes_ensure(DEMO_ROUTES, users=users)
        report = demo_load(path=path, authors=authors)
        if accounts:  # a collection has an owner: the demo's faculty account
            collection, created = demo_collection_ensure(owner=users["faculty"])
            (report.created if created else report.kept).append(f"collection {collection.slug}")
        call_command("image_renditions", stdout=self.stdout)  # for cases a former version loaded
        for item in report.created:
            self.stdout.write(f"created {item}")
        for item in report.kept:
            self.stdout.write(f"kept    {item} (already there)")
        if accounts:
            self.stdout.write(self.style.SUCCESS("\nDemo accounts (username / password / role / e-mail):"))
            for username, password, role, _, email in DEMO_ACCOUNTS:
                self.stdout.write(f"  {username:<10} {password:<10} {role:<10} {email}")
            port = settings.TEACHINGFILE_RECEIVER_PORT
            self.stdout.write(self.style.SUCCESS(f"\nDICOM receiver (make run: 127.0.0.1:{port}), called AE titles:"))
            for route in routes:
                self.stdout.write(f"  {route.ae_title:<16} drafts for {route.author.username}")
