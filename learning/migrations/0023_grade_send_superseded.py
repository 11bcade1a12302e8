from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from learning.teachers import sync_teachers_group


def let_teachers_follow_grade_sends(apps, schema_editor) -> None:
    # As in 0019: make the GradeSend permissions now so the Teachers group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_teachers_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("learning", "0022_lti")]

    operations = [
        migrations.AlterField(
            model_name="gradesend",
            name="state",
            field=models.CharField(
                choices=[
                    ("waiting", "Waiting to be sent"),
                    ("sent", "Sent"),
                    ("retrying", "Not reached; trying again"),
                    ("gave_up", "Not sent; gave up"),
                    ("superseded", "Replaced by a later attempt's score"),
                ],
                default="waiting",
                max_length=20,
            ),
        ),
        migrations.AlterModelOptions(
            name="gradesend",
            options={
                "permissions": [("send_again_gradesend", "Can send a score to the LMS again now")],
                "verbose_name": "LMS grade",
                "verbose_name_plural": "LMS grades",
            },
        ),
        migrations.RunPython(let_teachers_follow_grade_sends, migrations.RunPython.noop),
    ]
