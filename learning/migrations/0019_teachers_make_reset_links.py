from django.contrib.auth.management import create_permissions
from django.db import migrations

from learning.teachers import sync_teachers_group


def let_teachers_make_reset_links(apps, schema_editor) -> None:
    # As in 0007: make the new permission now so the Teachers group can hold it.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_teachers_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("learning", "0018_certificate")]

    operations = [
        migrations.AlterModelOptions(
            name="membership",
            options={
                "permissions": [
                    (
                        "make_reset_link_membership",
                        "Can make a one-time password reset link for a learner of their class",
                    )
                ]
            },
        ),
        migrations.RunPython(let_teachers_make_reset_links, migrations.RunPython.noop),
    ]
