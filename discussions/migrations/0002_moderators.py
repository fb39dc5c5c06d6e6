"""Let editors moderate the discussion."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def add_moderation(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editor, _ = Group.objects.get_or_create(name="editor")
    editor.permissions.add(Permission.objects.get(content_type__app_label="discussions", codename="moderate_comment"))


def remove_moderation(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="editor"):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="discussions"))


class Migration(migrations.Migration):
    dependencies = [("discussions", "0001_initial"), ("accounts", "0001_roles")]

    operations = [migrations.RunPython(add_moderation, remove_moderation)]
