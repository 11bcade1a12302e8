from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from learning.lti import keys


class Command(BaseCommand):
    help = (
        "Make a new LTI signing key. The keys it replaces stay listed at /lti/jwks.json for "
        "the grace period (what an LMS cached, or signed just before, still verifies); "
        "--grace-days 0 drops them at once, as after a leaked key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-days",
            type=int,
            default=keys.DEFAULT_GRACE.days,
            help="How long the replaced key stays listed (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        grace = timedelta(days=max(options["grace_days"], 0))
        changes = keys.rotate_key(grace=grace)
        self.stdout.write(f"Made the LTI signing key {changes.created}; it signs from now on.")
        if changes.retired:
            self.stdout.write(f"Stopped listing {changes.retired} replaced key(s).")
        replaced = [key for key in keys.listed_keys() if key != changes.created]
        if replaced:
            until = timezone.localtime(timezone.now() + grace).strftime("%Y-%m-%d %H:%M")
            names = ", ".join(str(key) for key in replaced)
            self.stdout.write(
                f"Still listed until {until} at the latest, then `manage.py ensure_lti_key` "
                f"(which `make run` and `make serve` run) stops listing them: {names}."
            )
