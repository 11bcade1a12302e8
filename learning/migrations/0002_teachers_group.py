from django.contrib.auth.management import create_permissions
from django.db import migrations

from learning.teachers import TEACHERS_GROUP, sync_teachers_group


def create_teachers_group(apps, schema_editor) -> None:
    # Permissions are normally made after all migrations run; make them now so the group
    # can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_teachers_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_teachers_group(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name=TEACHERS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_teachers_group, remove_teachers_group)]
