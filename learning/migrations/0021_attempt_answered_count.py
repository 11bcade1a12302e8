from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def count_answers(apps, schema_editor) -> None:
    Attempt = apps.get_model("learning", "Attempt")
    Response = apps.get_model("learning", "Response")
    answered = (
        Response.objects.filter(attempt_id=OuterRef("pk"))
        .order_by()
        .values("attempt_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    Attempt.objects.update(answered_count=Coalesce(Subquery(answered), Value(0)))


class Migration(migrations.Migration):
    dependencies = [("learning", "0020_page_versions")]

    operations = [
        migrations.AddField(
            model_name="attempt",
            name="answered_count",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_answers, migrations.RunPython.noop),
    ]
