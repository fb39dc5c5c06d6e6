"""Let faculty author quizzes and editors edit every quiz and see its cohort results."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

QUIZ_MODELS = ["question", "option", "quiz", "quizquestion"]
FACULTY = [f"{action}_{model}" for model in QUIZ_MODELS for action in ("add", "change", "delete", "view")]
GROUP_PERMISSIONS = {"faculty": FACULTY, "editor": [*FACULTY, "edit_any_quiz"]}


def add_quiz_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="quizzes", codename__in=codes))


def remove_quiz_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="quizzes"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_roles"), ("quizzes", "0001_initial")]

    operations = [migrations.RunPython(add_quiz_permissions, remove_quiz_permissions)]
