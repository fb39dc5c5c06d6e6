"""Writes on users and their roles."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .roles import EDITOR, FACULTY, RESIDENT, STAFF_GROUPS, groups_sync

DEMO_ACCOUNTS = [
    # username, password, role, display name
    ("resident", "resident", RESIDENT, "Riley Resident"),
    ("faculty", "faculty", FACULTY, "Dr Fay Faculty"),
    ("faculty2", "faculty2", FACULTY, "Dr Sam Second"),
    ("editor", "editor", EDITOR, "Dr Eddie Editor"),
]


@transaction.atomic
def user_set_role(*, user, role: str) -> None:
    """Put the user in exactly one role group; faculty and editors may use the authoring screen."""
    user.groups.set([Group.objects.get(name=role)])
    user.is_staff = role in STAFF_GROUPS
    user.save(update_fields=["is_staff"])


@transaction.atomic
def demo_accounts_ensure() -> dict:
    """Create the demo accounts that are missing; return them by username."""
    groups_sync(group_model=Group, permission_model=Permission)
    User = get_user_model()
    users = {}
    for username, password, role, display_name in DEMO_ACCOUNTS:
        first_name, _, last_name = display_name.rpartition(" ")
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": last_name}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user_set_role(user=user, role=role)
        users[username] = user
    return users
