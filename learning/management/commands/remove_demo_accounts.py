from typing import Any

from django.core.management.base import BaseCommand

from learning.demo_accounts import DEMO_ACCOUNTS, remove_demo_accounts


class Command(BaseCommand):
    help = (
        "Delete the demo student and teacher, with their attempts and progress, wherever "
        "they still have the passwords the README publishes (`make serve` refuses to start "
        "until then)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        removed = remove_demo_accounts()
        if not removed.usernames:
            self.stdout.write("No demo account with its published password: nothing to remove.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Deleted the demo accounts: {', '.join(removed.usernames)}.")
        )
        self.stdout.write(
            f"With them went their {removed.attempts} quiz attempt(s), their progress and "
            "their class memberships: demo data."
        )
        if removed.classes_left_untaught:
            self.stdout.write(
                self.style.WARNING(
                    "These classes were taught by the demo teacher alone and now have no "
                    f"teacher: {', '.join(removed.classes_left_untaught)}. Their learners "
                    "are kept; a superuser can give each class its teacher in the admin "
                    "(Classes)."
                )
            )
        kept = sorted({account.username for account in DEMO_ACCOUNTS} - set(removed.usernames))
        if kept:
            self.stdout.write(
                f"Kept any user named {', '.join(kept)}: not a demo account with its "
                "published password."
            )
