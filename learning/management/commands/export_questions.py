from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.models import Topic
from learning.question_bank import EXPORT_FORMATS


class Command(BaseCommand):
    help = "Export questions (GIFT by default): one topic (--topic) or the whole bank."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", help="Slug of the topic to export.")
        parser.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="gift")
        parser.add_argument("-o", "--output", type=Path, help="File to write (default: stdout).")

    def handle(self, *args: Any, **options: Any) -> None:
        topic = None
        if options["topic"]:
            topic = Topic.objects.filter(slug=options["topic"]).first()
            if topic is None:
                raise CommandError(f"No topic with the slug {options['topic']!r}")
        text = EXPORT_FORMATS[options["format"]].write(topic)
        if options["output"]:
            try:
                options["output"].write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(
                    f"Cannot write {options['output']}: {error.strerror}"
                ) from error
            self.stderr.write(f"Wrote {options['output']}")
        else:
            self.stdout.write(text, ending="")
