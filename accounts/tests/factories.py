"""Plain factories for account tests."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Invitation

_tokens = iter(range(1, 1_000_000))


def make_invitation(*, created_by=None, **overrides) -> Invitation:
    now = timezone.now()
    fields = {
        "email": "new.resident@example.org",
        "token": f"test-token-{next(_tokens)}",
        "created_by": created_by,
        "created": now,
        "expires": now + timedelta(days=14),
    }
    return Invitation.objects.create(**(fields | overrides))
