"""Render the stored lessons again so that each glossary term's first use links to the
glossary page (learning/glossary.py). Only the rendered HTML changes, never the Markdown."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from learning.glossary import render_lesson_with_glossary


def rerender_lessons(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Lesson = apps.get_model("learning", "Lesson")
    for lesson in Lesson.objects.all():
        rendered = render_lesson_with_glossary(lesson.body_markdown)
        lesson.body_html = rendered.html
        lesson.sections = [
            {"anchor": s.anchor, "title": s.title, "level": s.level} for s in rendered.sections
        ]
        lesson.save(update_fields=["body_html", "sections"])


class Migration(migrations.Migration):
    dependencies = [("learning", "0015_moodle_credits")]

    operations = [migrations.RunPython(rerender_lessons, migrations.RunPython.noop)]
