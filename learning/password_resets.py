"""Password resets: how many "Forgot your password?" forms one address may send in an hour
(DJANGO_PASSWORD_RESET_LIMIT_PER_HOUR, counted in the database as sign-ups are), and the
one-time password reset links that a teacher makes for a learner of their class who
has no e-mail address, to hand over in person.

The link is Django's own reset link (`password_reset_confirm`): the token generator signs
the user's password hash and last log-in, so the link stops working once the password is
set (or the learner logs in), and after PASSWORD_RESET_TIMEOUT. Nothing is stored.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from learning.models import PasswordResetRequest
from learning.selectors import learners_taught_by
from learning.signups import WINDOW, minutes_until_a_place_frees

MAKE_RESET_LINK = "learning.make_reset_link_membership"


def learners_a_teacher_may_reset(user: User | AnonymousUser) -> QuerySet[User]:
    """The accounts `user` may make a reset link for: active learners of the classes they
    teach (a superuser: every learner) who gave no email, so cannot reset it themselves;
    never staff, whose account is another matter. A learner with an email resets their own
    password: a teacher's link would let the teacher into an account its owner can keep."""
    return learners_taught_by(user).filter(
        is_active=True, is_staff=False, is_superuser=False, email=""
    )


def is_learner_account(user: User) -> bool:
    """The same rule as above, for one user already in the teacher's scope."""
    return user.is_active and not user.is_staff and not user.is_superuser and not user.email


def reset_link_path(learner: User) -> str:
    """The path of a fresh one-time link that lets `learner` choose a new password."""
    uid = urlsafe_base64_encode(force_bytes(learner.pk))
    token = default_token_generator.make_token(learner)
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def minutes_until_reset_allowed(*, address: str, now: datetime | None = None) -> int:
    """0 if `address` may ask for a reset link now; otherwise the whole minutes to wait."""
    limit = settings.PASSWORD_RESET_LIMIT_PER_HOUR
    if limit <= 0:
        return 0
    now = now or timezone.now()
    records = PasswordResetRequest.objects.all()
    return minutes_until_a_place_frees(records, address=address, limit=limit, now=now)


@transaction.atomic
def count_reset_request(*, address: str) -> None:
    """Count one reset form against its address, and forget those older than the window."""
    now = timezone.now()
    PasswordResetRequest.objects.filter(created_at__lte=now - WINDOW).delete()
    PasswordResetRequest.objects.create(address=address[:64], created_at=now)
