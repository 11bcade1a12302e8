"""Log-in lock-outs (django-axes): who is locked out now, and lifting a lock.

Axes counts failed log-ins per username *and* address (AXES_LOCKOUT_PARAMETERS), one
`AccessAttempt` row each; a pair is locked out once its row reaches AXES_FAILURE_LIMIT
failures, until AXES_COOLOFF_TIME has passed since the last one.
"""

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone


def is_locked_out(username_field: str) -> Exists:
    """True where the username in `username_field` is locked out from some address."""
    return Exists(
        AccessAttempt.objects.filter(
            username=OuterRef(username_field),
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        )
    )


def lift_lockout(*, username: str) -> bool:
    """Forget this username's failed log-ins, from every address, so it can log in at
    once. Whether there were any."""
    return bool(reset(username=username))
