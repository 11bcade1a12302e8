"""Render the stored lessons again: text that mentioned a tag such as <style> had lost
everything after it (learning/rendering.py now shows such text escaped)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from learning.rendering import render_lesson


def rerender_lessons(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Lesson = apps.get_model("learning", "Lesson")
    for lesson in Lesson.objects.all():
        rendered = render_lesson(lesson.body_markdown)
        lesson.body_html = rendered.html
        lesson.sections = [
            {"anchor": s.anchor, "title": s.title, "level": s.level} for s in rendered.sections
        ]
        lesson.save(update_fields=["body_html", "sections"])


class Migration(migrations.Migration):
    dependencies = [("learning", "0009_quiz_settings")]

    operations = [migrations.RunPython(rerender_lessons, migrations.RunPython.noop)]
