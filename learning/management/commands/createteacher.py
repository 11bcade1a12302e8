import getpass
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from learning.teachers import TEACHERS_GROUP


class Command(BaseCommand):
    help = "Create a teacher: a staff user in the Teachers group, who can author the course."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="The password (prompted for when left out).")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        username: str = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user called {username!r} already exists.")
        password = options["password"] or self._prompt_password()
        user = User(username=username, email=options["email"], is_staff=True)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        try:
            group = Group.objects.get(name=TEACHERS_GROUP)
        except Group.DoesNotExist:
            raise CommandError("The Teachers group is missing: run `manage.py migrate`.") from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            user.groups.add(group)
        self.stdout.write(self.style.SUCCESS(f"Teacher {username!r} created."))

    def _prompt_password(self) -> str:
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError(
                "No password given; pass --password to run without a prompt."
            ) from None
        if first != second:
            raise CommandError("The two passwords differ.")
        if not first:
            raise CommandError("The password is empty.")
        return first
