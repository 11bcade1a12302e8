from django.db import migrations


def create_course_quizzes(apps, schema_editor) -> None:
    Quiz = apps.get_model("learning", "Quiz")
    # At most 20 due reviews a session; a course challenge of 12 mixed questions.
    Quiz.objects.get_or_create(kind="review", defaults={"question_count": 20, "pass_mark": 70})
    Quiz.objects.get_or_create(kind="challenge", defaults={"question_count": 12, "pass_mark": 70})


def remove_course_quizzes(apps, schema_editor) -> None:
    apps.get_model("learning", "Quiz").objects.exclude(kind="topic").delete()


class Migration(migrations.Migration):
    dependencies = [("learning", "0002_teachers_group")]

    operations = [migrations.RunPython(create_course_quizzes, remove_course_quizzes)]
