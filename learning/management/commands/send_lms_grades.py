from typing import Any

from django.core.management.base import BaseCommand

from learning.lti.grades import send_due


class Command(BaseCommand):
    help = (
        "Send the LMS grades that are due: scores not sent yet and retries whose wait is "
        "over. Safe to run again, and beside another run (each score is claimed first); "
        "run it from cron every few minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tally = send_due()
        self.stdout.write(f"LMS grades: {tally}.")
