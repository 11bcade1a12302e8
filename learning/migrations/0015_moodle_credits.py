"""Credits grade picked options, as Moodle reads GIFT (see the README's GIFT section).

Until now a picked option was graded by its tick alone: single choice and true/false gave
the point for the ticked option and nothing else, whatever an option's credit (the old form
defaulted every credit to 100%); multiple answers gave (right picked - wrong picked) /
right options. So that no learner's points change, on a regrade or otherwise, the options'
credits are set to what those rules gave: a wrong single option 0% (a right one 100%), and
for multiple answers the right options share 100% and each wrong one takes away as much.
Snapshots taken before this (no "scoring" mark) are read the same way
(`QuestionType.key_from_ticks`). New options default to 0%.

Also: the feedback on a numeric question's own value, which imports used to drop.
"""

from decimal import Decimal

import django.core.validators
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

_CREDIT_PLACES = Decimal("0.00001")


def credits_as_graded(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Choice = apps.get_model("learning", "Choice")
    Choice.objects.filter(question__type__in=["single", "true_false"], is_correct=True).exclude(
        credit=100
    ).update(credit=Decimal(100))
    Choice.objects.filter(question__type__in=["single", "true_false"], is_correct=False).exclude(
        credit=0
    ).update(credit=Decimal(0))
    rows: dict[int, list] = {}
    for choice in Choice.objects.filter(question__type="multiple").order_by("question_id", "id"):
        rows.setdefault(choice.question_id, []).append(choice)
    changed = []
    for choices in rows.values():
        right = sum(choice.is_correct for choice in choices)
        share = (Decimal(100) / right).quantize(_CREDIT_PLACES) if right else Decimal(0)
        for choice in choices:
            credit = share if choice.is_correct else -share
            if choice.credit != credit:
                choice.credit = credit
                changed.append(choice)
    Choice.objects.bulk_update(changed, ["credit"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("learning", "0014_question_keys_per_topic_and_import_records")]

    operations = [
        migrations.AddField(
            model_name="question",
            name="numeric_feedback",
            field=models.TextField(
                blank=True,
                help_text="Shown when a learner's number is within the tolerance of the value.",
            ),
        ),
        migrations.AlterField(
            model_name="choice",
            name="credit",
            field=models.DecimalField(
                decimal_places=5,
                default=Decimal("0"),
                help_text="Percent of the point this answer earns (100 = fully right, 50 = half, 0 = nothing). Single choice: what a wrong option earns (a ticked one earns all). Multiple answers: what each option adds, right ones adding to 100, wrong ones 0 or negative (all left at 0: graded by the ticks).",
                max_digits=8,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("-100")),
                    django.core.validators.MaxValueValidator(Decimal("100")),
                ],
            ),
        ),
        migrations.RunPython(credits_as_graded, migrations.RunPython.noop),
    ]
