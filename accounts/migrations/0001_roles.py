"""Create the resident, faculty and editor groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


# Frozen copy of accounts.roles.GROUP_PERMISSIONS as of this migration: later role changes get their own migration.
GROUP_PERMISSIONS = {'editor': ['cases.add_case',
            'cases.change_case',
            'cases.delete_case',
            'cases.view_case',
            'cases.add_series',
            'cases.change_series',
            'cases.delete_series',
            'cases.view_series',
            'cases.add_image',
            'cases.change_image',
            'cases.delete_image',
            'cases.view_image',
            'cases.add_casefinding',
            'cases.change_casefinding',
            'cases.delete_casefinding',
            'cases.view_casefinding',
            'cases.add_differentialentry',
            'cases.change_differentialentry',
            'cases.delete_differentialentry',
            'cases.view_differentialentry',
            'cases.add_casereference',
            'cases.change_casereference',
            'cases.delete_casereference',
            'cases.view_casereference',
            'cases.add_topic',
            'cases.change_topic',
            'cases.view_topic',
            'cases.add_topicsection',
            'cases.change_topicsection',
            'cases.view_topicsection',
            'cases.add_classificationsystem',
            'cases.change_classificationsystem',
            'cases.view_classificationsystem',
            'cases.add_classificationgrade',
            'cases.change_classificationgrade',
            'cases.view_classificationgrade',
            'cases.add_topicreference',
            'cases.change_topicreference',
            'cases.view_topicreference',
            'cases.delete_topic',
            'cases.delete_topicsection',
            'cases.delete_classificationsystem',
            'cases.delete_classificationgrade',
            'cases.delete_topicreference',
            'cases.edit_any_case',
            'cases.publish_case'],
 'faculty': ['cases.add_case',
             'cases.change_case',
             'cases.delete_case',
             'cases.view_case',
             'cases.add_series',
             'cases.change_series',
             'cases.delete_series',
             'cases.view_series',
             'cases.add_image',
             'cases.change_image',
             'cases.delete_image',
             'cases.view_image',
             'cases.add_casefinding',
             'cases.change_casefinding',
             'cases.delete_casefinding',
             'cases.view_casefinding',
             'cases.add_differentialentry',
             'cases.change_differentialentry',
             'cases.delete_differentialentry',
             'cases.view_differentialentry',
             'cases.add_casereference',
             'cases.change_casereference',
             'cases.delete_casereference',
             'cases.view_casereference',
             'cases.add_topic',
             'cases.change_topic',
             'cases.view_topic',
             'cases.add_topicsection',
             'cases.change_topicsection',
             'cases.view_topicsection',
             'cases.add_classificationsystem',
             'cases.change_classificationsystem',
             'cases.view_classificationsystem',
             'cases.add_classificationgrade',
             'cases.change_classificationgrade',
             'cases.view_classificationgrade',
             'cases.add_topicreference',
             'cases.change_topicreference',
             'cases.view_topicreference'],
 'resident': []}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.get(content_type__app_label=code.split(".")[0], codename=code.split(".")[1])
            for code in codes
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
