"""The demo accounts: a student and a teacher whose passwords the README publishes.

`make run` creates them for local use. They must never reach a site others can log in
to: `learning.checks` stops the production start (`manage.py check --deploy`) while one
still has its published password, and `remove_demo_accounts` deletes them.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from learning.insight import rebuild_item_statistics
from learning.models import Attempt, Classroom

REMOVE_COMMAND = "python manage.py remove_demo_accounts"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    is_teacher: bool


DEMO_ACCOUNTS = (
    DemoAccount("student", "learn-muscles-2026", is_teacher=False),
    DemoAccount("teacher", "teach-muscles-2026", is_teacher=True),
)


def demo_accounts_with_published_passwords() -> list[AbstractBaseUser]:
    """The demo users that anyone who read the README can log in as.

    A user who merely has a demo username but a password of their own is not one of them.
    The hash is checked without `User.check_password`, which could rewrite it.
    """
    published = {account.username: account.password for account in DEMO_ACCOUNTS}
    users = get_user_model().objects.filter(username__in=published)
    return [user for user in users if check_password(published[user.username], user.password)]


@dataclass(frozen=True)
class RemovedDemoAccounts:
    usernames: list[str]
    attempts: int
    # Classes that the demo teacher taught alone: kept (their learners are real), but no
    # teacher sees them until someone is made their teacher.
    classes_left_untaught: list[str]


@transaction.atomic
def remove_demo_accounts() -> RemovedDemoAccounts:
    """Delete the demo users that still have their published passwords, with everything
    that is theirs (attempts, answers, progress, review cards, class memberships): it is
    demo data. Item statistics are rebuilt if their attempts counted there."""
    users = demo_accounts_with_published_passwords()
    ids = [user.pk for user in users]
    attempts = Attempt.objects.filter(learner_id__in=ids).count()
    taught = list(Classroom.objects.filter(teachers__in=ids).distinct())
    get_user_model().objects.filter(pk__in=ids).delete()
    if attempts:
        rebuild_item_statistics()
    untaught = sorted(c.name for c in taught if not c.teachers.exists())
    return RemovedDemoAccounts(sorted(user.get_username() for user in users), attempts, untaught)
