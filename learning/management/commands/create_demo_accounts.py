from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from learning.teachers import TEACHERS_GROUP

DEMO_ACCOUNTS = (
    # username, password, is a teacher
    ("student", "learn-muscles-2026", False),
    ("teacher", "teach-muscles-2026", True),
)


class Command(BaseCommand):
    help = "Create the demo student and teacher for local use (refused unless DEBUG is on)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for local development only (DJANGO_DEBUG=1).")
        User = get_user_model()
        teachers = Group.objects.get(name=TEACHERS_GROUP)
        with transaction.atomic():
            for username, password, is_teacher in DEMO_ACCOUNTS:
                user, _ = User.objects.get_or_create(username=username)
                user.set_password(password)
                user.is_staff = is_teacher
                user.save()
                if is_teacher:
                    user.groups.add(teachers)
        self.stdout.write("Demo accounts (local use only):")
        for username, password, is_teacher in DEMO_ACCOUNTS:
            role = "teacher, can use /admin/" if is_teacher else "student"
            self.stdout.write(f"  {username:<8} password: {password:<20} ({role})")
