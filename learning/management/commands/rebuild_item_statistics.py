from typing import Any

from django.core.management.base import BaseCommand

from learning.insight import rebuild_item_statistics


class Command(BaseCommand):
    help = "Recompute the item-analysis sums from every first finished attempt's responses."

    def handle(self, *args: Any, **options: Any) -> None:
        count = rebuild_item_statistics()
        self.stdout.write(self.style.SUCCESS(f"Item statistics rebuilt for {count} questions."))
