from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.content import ContentError, load_course


class Command(BaseCommand):
    help = "Load or refresh the course (lessons and questions) from the fixtures folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="Folder with lessons/ and questions/ (default: the project's fixtures/).",
        )
        parser.add_argument(
            "--replace-edits",
            action="store_true",
            help="Also overwrite course topics, lessons and questions edited in the admin "
            "with the files' version (by default they are kept). Questions made in the "
            "admin or imported are never overwritten.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["dir"] or settings.COURSE_CONTENT_DIR
        if not directory.is_dir():
            raise CommandError(f"No content folder at {directory}")
        try:
            report = load_course(directory, replace_edits=options["replace_edits"])
        except ContentError as error:
            listing = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(f"The course was not loaded; nothing changed:\n{listing}") from None
        self.stdout.write(self.style.SUCCESS(f"Course loaded: {report.summary()}."))
