"""Let editors invite residents: add, see and withdraw sign-up invitations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR = ["add_invitation", "view_invitation", "delete_invitation"]


def add_invitation_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editor, _ = Group.objects.get_or_create(name="editor")
    editor.permissions.add(*Permission.objects.filter(content_type__app_label="accounts", codename__in=EDITOR))


def remove_invitation_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="editor"):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="accounts", codename__in=EDITOR))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_profile_invitation")]

    operations = [migrations.RunPython(add_invitation_permissions, remove_invitation_permissions)]
