# Topics get a published state (the topics already there stay published; a new one starts
# as a draft), a question's explanation becomes optional, and topics, lessons and
# questions remember a digest of what the course files last wrote into them.

from django.db import migrations, models

TOPIC_PUBLISHED_HELP = (
    "Learners see only published topics: a new topic is a draft until you publish it."
)


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0011_signup_records"),
    ]

    operations = [
        # Added as published, so every topic learners can see today stays visible...
        migrations.AddField(
            model_name="topic",
            name="is_published",
            field=models.BooleanField(
                default=True, help_text=TOPIC_PUBLISHED_HELP, verbose_name="published"
            ),
        ),
        # ...then new topics start as drafts.
        migrations.AlterField(
            model_name="topic",
            name="is_published",
            field=models.BooleanField(
                default=False, help_text=TOPIC_PUBLISHED_HELP, verbose_name="published"
            ),
        ),
        migrations.AddField(
            model_name="topic",
            name="files_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="lesson",
            name="files_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="question",
            name="files_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="question",
            name="explanation",
            field=models.TextField(
                blank=True,
                help_text="Shown after answering: why the right answer is right. Without one, "
                "learners who miss the question see only the right answer.",
            ),
        ),
    ]
