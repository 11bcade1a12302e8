"""Moodle XML: import (every supported type, categories, what is skipped, sanitized HTML,
hostile files) and export (Moodle's layout, and back unchanged)."""

from pathlib import Path

import pytest
from django.core.management import call_command

from learning import question_bank
from learning.models import Choice, Question
from tests.test_question_bank import snapshot_bank

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "moodle-xml"


def plan(text: str | bytes, **kwargs):
    return question_bank.plan_import(text, filename="x.xml", file_format="moodle-xml", **kwargs)


class TestTheWholeCourseBank:
    def test_export_then_import_is_unchanged(self):
        call_command("load_content", verbosity=0)
        before = snapshot_bank()
        exported = question_bank.export_moodle_xml()
        again = plan(exported)
        assert again.errors == [] and again.skipped == []
        assert again.count("create") == 0 and again.count("update") == 0
        assert again.count("unchanged") == Question.objects.count()
        Choice.objects.all().delete()
        Question.objects.all().delete()
        question_bank.apply_import(plan(exported))
        assert snapshot_bank() == before
