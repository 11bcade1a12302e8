from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning.models import Topic
from learning.question_bank import ImportPlan, apply_import, plan_import
from learning.uploads import MAX_IMPORT_BYTES


class Command(BaseCommand):
    help = (
        "Import questions from a GIFT (or Aiken) file: all or nothing. Questions are matched "
        "by their ::title:: key; $CATEGORY names the topic unless --topic is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--topic", help="Slug of the topic every question goes to.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; change nothing."
        )
        parser.add_argument("--format", choices=["gift", "aiken"], default="gift")
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
        plan = plan_import(
            path.read_bytes(), filename=path.name, topic=topic, file_format=options["format"]
        )
        self._report(plan)
        if plan.errors:
            raise CommandError(f"{path.name} was not imported: fix the errors above.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
            return
        apply_import(plan)
        self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {plan.summary()}."))

    def _report(self, plan: ImportPlan) -> None:
        for planned in plan.questions:
            if planned.action != "unchanged":
                self.stdout.write(
                    f"  line {planned.line}: {planned.action} {planned.key} "
                    f"({planned.kind_label}, {planned.topic.slug})"
                )
        for problem in plan.skipped:
            self.stdout.write(f"  line {problem.line}: skipped: {problem.message}")
        for problem in plan.errors:
            self.stderr.write(f"  line {problem.line}: error: {problem.message}")
        self.stdout.write(f"{plan.filename}: {plan.summary()}.")


def _size(count: int) -> str:
    return f"{count // 1024} KB" if count >= 1024 else f"{count} bytes"
