"""System checks of our own, run by `manage.py check` (`make serve` runs it with --deploy)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connection

from learning.demo_accounts import REMOVE_COMMAND, demo_accounts_with_published_passwords

DEMO_ACCOUNT_IN_PRODUCTION = "learning.E001"
DEMO_ACCOUNTS_UNCHECKED = "learning.W001"


@register(Tags.security, deploy=True)
def check_no_demo_accounts(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """A demo account with its published password is a door anyone can open."""
    try:
        if get_user_model()._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet: no users at all
        users = demo_accounts_with_published_passwords()
    except DatabaseError as error:
        return [
            Warning(
                f"Could not look for demo accounts in the database: {error}",
                hint="Check DATABASE_URL (or SQLITE_PATH), then run the check again.",
                id=DEMO_ACCOUNTS_UNCHECKED,
            )
        ]
    if not users:
        return []
    names = ", ".join(sorted(user.get_username() for user in users))
    return [
        Error(
            f"Demo accounts with the passwords the README publishes exist in this "
            f"database: {names}. Anyone can log in as them.",
            hint=f"Delete them with `{REMOVE_COMMAND}` (with the same settings), "
            "or give them passwords of their own.",
            id=DEMO_ACCOUNT_IN_PRODUCTION,
        )
    ]


NO_EMAIL_SERVER = "learning.W002"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@register(Tags.security, deploy=True)
def check_email_server(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Without an SMTP server, "Forgot your password?" says a link was sent and none is."""
    mailer: dict[str, Any] = settings.MAILERS.get("default", {})
    if mailer.get("BACKEND") != SMTP_BACKEND:
        return []
    if mailer.get("OPTIONS", {}).get("host"):
        if settings.DEFAULT_FROM_EMAIL.endswith("@localhost"):
            return [
                Warning(
                    f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL!r}: mail providers "
                    "refuse to send from it, so password reset e-mails would not arrive.",
                    hint="Set DEFAULT_FROM_EMAIL to an address of your own domain "
                    "(README, Configuration).",
                    id=NO_EMAIL_SERVER,
                )
            ]
        return []
    return [
        Warning(
            "EMAIL_HOST is not set: password reset e-mails cannot be sent.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, "
            "EMAIL_USE_TLS, DEFAULT_FROM_EMAIL as your mail provider says); README, "
            "Configuration. Learners without e-mail get a reset link from their teacher.",
            id=NO_EMAIL_SERVER,
        )
    ]
