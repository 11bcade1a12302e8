from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from learning.demo_accounts import DEMO_ACCOUNTS, REMOVE_COMMAND
from learning.teachers import TEACHERS_GROUP


class Command(BaseCommand):
    help = "Create the demo student and teacher for local use (refused unless DEBUG is on)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for local development only (DJANGO_DEBUG=1).")
        User = get_user_model()
        teachers = Group.objects.get(name=TEACHERS_GROUP)
        with transaction.atomic():
            for account in DEMO_ACCOUNTS:
                user, _ = User.objects.get_or_create(username=account.username)
                user.set_password(account.password)
                user.is_staff = account.is_teacher
                user.save()
                if account.is_teacher:
                    user.groups.add(teachers)
        self.stdout.write("Demo accounts (local use only):")
        for account in DEMO_ACCOUNTS:
            role = "teacher, can use /admin/" if account.is_teacher else "student"
            self.stdout.write(f"  {account.username:<8} password: {account.password:<20} ({role})")
        self.stdout.write(
            "`make serve` refuses to start on a database that holds them; "
            f"`{REMOVE_COMMAND}` deletes them."
        )
