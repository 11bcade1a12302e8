import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from learning.models import ImportVia, Topic
from learning.question_bank import READERS, ImportPlan, apply_import, plan_import
from learning.uploads import MAX_IMPORT_BYTES

_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*[A-Za-z]\s*$", re.MULTILINE)


def guess_format(path: Path, raw: bytes) -> str:
    """The format a file is most likely in: .xml is Moodle XML; a .txt with `ANSWER: X`
    lines is Aiken; anything else is GIFT. `--format` overrides the guess."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return "moodle-xml"
    if suffix == ".txt" and _AIKEN_ANSWER.search(raw.decode("utf-8", "replace")):
        return "aiken"
    return "gift"


class Command(BaseCommand):
    help = (
        "Import questions from a file (GIFT, Aiken, or any format the bank reads): all or "
        "nothing, recorded in the admin's import history. Questions are matched by their key "
        "within their topic; the file's category names the topic (a new draft topic when it "
        "names none) unless --topic is given. New questions are drafts."
    )
    default_format: str | None = None  # None: guessed from the file

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--topic", help="Slug of the topic every question goes to.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; change nothing."
        )
        parser.add_argument(
            "--format",
            choices=sorted(READERS),
            default=self.default_format,
            help="The file's format. Default: .xml is moodle-xml, a .txt file with "
            "'ANSWER: X' lines is aiken, anything else gift.",
        )
        limit = parser.add_mutually_exclusive_group()
        limit.add_argument(
            "--max-bytes",
            type=int,
            default=MAX_IMPORT_BYTES,
            help=f"Refuse a larger file (default {MAX_IMPORT_BYTES}, the admin's upload limit).",
        )
        limit.add_argument(
            "--no-size-limit", action="store_true", help="Read the file whatever its size."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file at {path}")
        size, limit = path.stat().st_size, options["max_bytes"]
        if not options["no_size_limit"] and size > limit:
            raise CommandError(
                f"{path.name} is {_size(size)}; the limit is {_size(limit)}. "
                "Split the file, or pass --max-bytes N or --no-size-limit."
            )
        topic = None
        if options["topic"]:
            topic = Topic.objects.filter(slug=options["topic"]).first()
            if topic is None:
                raise CommandError(f"No topic with the slug {options['topic']!r}")
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        file_format = options["format"] or guess_format(path, raw)
        if file_format not in READERS:
            raise CommandError(
                f"{path.name} looks like {file_format}, which this site does not read; "
                f"pass --format ({', '.join(sorted(READERS))})."
            )
        plan = plan_import(raw, filename=path.name, topic=topic, file_format=file_format)
        self._report(plan)
        if plan.errors:
            raise CommandError(f"{path.name} was not imported: fix the errors above.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
            return
        if not plan.can_apply:
            self.stdout.write("Nothing to change: every question is already in the bank.")
            return
        try:
            record = apply_import(plan, user=None, via=ImportVia.COMMAND)
        except IntegrityError as error:
            raise CommandError(
                "The question bank changed while the file was importing (a topic or question "
                "of the same key was added); nothing was imported. Run the command again."
            ) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {path.name}: {plan.summary(done=True)} (import record {record.pk})."
            )
        )

    def _report(self, plan: ImportPlan) -> None:
        for new in plan.new_topics:
            self.stdout.write(f"  new topic (a draft): {new.title} ({new.slug})")
        for planned in plan.questions:
            if planned.action != "unchanged":
                self.stdout.write(
                    f"  line {planned.line}: {planned.action} {planned.key} "
                    f"({planned.kind_label}, {planned.topic.slug})"
                )
                for change in planned.changes:
                    self.stdout.write(f"      {change}")
        for problem in plan.skipped:
            self.stdout.write(f"  line {problem.line}: skipped: {problem.message}")
        for problem in plan.notes:
            self.stdout.write(f"  line {problem.line}: note: {problem.message}")
        for problem in plan.errors:
            self.stderr.write(f"  line {problem.line}: error: {problem.message}")
        self.stdout.write(f"{plan.filename}: {plan.summary()}.")


def _size(count: int) -> str:
    return f"{count // 1024} KB" if count >= 1024 else f"{count} bytes"
