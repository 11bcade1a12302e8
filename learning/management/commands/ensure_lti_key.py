from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from learning.lti import keys


class Command(BaseCommand):
    help = (
        "Make the LTI tool's signing key if none is active, and stop listing the keys "
        "replaced longer ago than the grace period. Safe to run at every start; it never "
        "rotates (rotate_lti_key does)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-days",
            type=int,
            default=keys.DEFAULT_GRACE.days,
            help="How long a replaced key stays listed at /lti/jwks.json (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        changes = keys.ensure_key(grace=timedelta(days=max(options["grace_days"], 0)))
        if options["verbosity"] < 1:
            return
        if changes.created is not None:
            self.stdout.write(f"Made the LTI signing key {changes.created}.")
        if changes.retired:
            self.stdout.write(f"Stopped listing {changes.retired} replaced LTI key(s).")
        if options["verbosity"] > 1 and changes.created is None and not changes.retired:
            self.stdout.write(f"The LTI signing key is {keys.signing_key()}; nothing to do.")
