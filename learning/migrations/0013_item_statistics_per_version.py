"""Item statistics per question version: the running sums and pick counts are derived
data, so the old per-question tables are dropped and the new ones rebuilt from the
responses (learners' first finished attempts at topic quizzes)."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast


def rebuild(apps: Any, schema_editor: Any) -> None:
    Response = apps.get_model("learning", "Response")
    PickedChoice = apps.get_model("learning", "PickedChoice")
    QuestionStatistics = apps.get_model("learning", "QuestionStatistics")
    ChoicePickCount = apps.get_model("learning", "ChoicePickCount")
    responses = Response.objects.filter(
        attempt__state__in=["finished", "expired"],
        attempt__sequence=1,
        attempt__quiz__kind="topic",
    )
    score = Cast("points", FloatField())
    rest = Cast(F("attempt__points") - F("points"), FloatField())
    rows = responses.values("version_id", "question_id").annotate(
        n=Count("id"),
        sx=Sum(score),
        sxx=Sum(score * score),
        sy=Sum(rest),
        syy=Sum(rest * rest),
        sxy=Sum(score * rest),
    )
    QuestionStatistics.objects.bulk_create(
        QuestionStatistics(
            version_id=row["version_id"],
            question_id=row["question_id"],
            responses=row["n"],
            sum_x=row["sx"],
            sum_xx=row["sxx"],
            sum_y=row["sy"],
            sum_yy=row["syy"],
            sum_xy=row["sxy"],
        )
        for row in rows.order_by()
    )
    picks = (
        PickedChoice.objects.filter(response__in=responses.values("pk"))
        .values("response__version_id", "question_id", "choice_id")
        .annotate(picks=Count("id"))
        .order_by()
    )
    ChoicePickCount.objects.bulk_create(
        ChoicePickCount(
            version_id=row["response__version_id"],
            question_id=row["question_id"],
            choice_id=row["choice_id"],
            picks=row["picks"],
        )
        for row in picks
    )


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0012_drafts_and_files_digests"),
    ]

    operations = [
        migrations.DeleteModel(name="ChoicePickCount"),
        migrations.DeleteModel(name="QuestionStatistics"),
        migrations.CreateModel(
            name="QuestionStatistics",
            fields=[
                (
                    "version",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="statistics",
                        serialize=False,
                        to="learning.questionversion",
                    ),
                ),
                ("responses", models.PositiveIntegerField(default=0)),
                ("sum_x", models.FloatField(default=0)),
                ("sum_xx", models.FloatField(default=0)),
                ("sum_y", models.FloatField(default=0)),
                ("sum_yy", models.FloatField(default=0)),
                ("sum_xy", models.FloatField(default=0)),
                (
                    "question",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="statistics",
                        to="learning.question",
                    ),
                ),
            ],
            options={"verbose_name_plural": "question statistics"},
        ),
        migrations.CreateModel(
            name="ChoicePickCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("choice_id", models.BigIntegerField()),
                ("picks", models.PositiveIntegerField(default=0)),
                (
                    "question",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pick_counts",
                        to="learning.question",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pick_counts",
                        to="learning.questionversion",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("version", "choice_id"), name="one_count_per_version_choice"
                    )
                ],
            },
        ),
        migrations.RunPython(rebuild, migrations.RunPython.noop),
    ]
