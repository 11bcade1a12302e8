from django.contrib.auth.management import create_permissions
from django.db import migrations

from learning.teachers import TEACHERS_GROUP, sync_teachers_group

REPORT_PERMISSIONS = ("view_itemanalysis", "view_progressreport")


def give_teachers_the_reports(apps, schema_editor) -> None:
    # As in 0002: permissions are normally made after all migrations run; make them now
    # (the reports' proxy models have their own) so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_teachers_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def take_the_reports_away(apps, schema_editor) -> None:
    group = apps.get_model("auth", "Group").objects.filter(name=TEACHERS_GROUP).first()
    if group is not None:
        group.permissions.remove(
            *apps.get_model("auth", "Permission").objects.filter(
                content_type__app_label="learning", codename__in=REPORT_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [("learning", "0006_question_type_from_registry")]

    operations = [migrations.RunPython(give_teachers_the_reports, take_the_reports_away)]
