"""Let faculty author collections and editors edit every shared one."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["collection", "collectionentry"]
FACULTY = [f"{action}_{model}" for model in MODELS for action in ("add", "change", "delete", "view")]
GROUP_PERMISSIONS = {"faculty": FACULTY, "editor": [*FACULTY, "edit_any_collection"]}


def add_collection_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="collections_app", codename__in=codes))


def remove_collection_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="collections_app"))


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0001_initial"), ("accounts", "0004_invitation_roles")]

    operations = [migrations.RunPython(add_collection_permissions, remove_collection_permissions)]
