"""Sign-ups per client address: at most DJANGO_SIGNUP_LIMIT_PER_HOUR new accounts from one
address in any hour (0: no limit).

The count lives in the database (SignUpRecord), so it holds across gunicorn workers and
restarts. An address is kept only for the hour it counts: each sign-up deletes the older
records. Two sign-ups from one address in the same instant may both pass; a limit of 5
can then be 6, no more per race.
"""

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from learning.forms import SignUpForm
from learning.models import SignUpRecord

WINDOW = timedelta(hours=1)


def minutes_until_sign_up_allowed(*, address: str, now: datetime | None = None) -> int:
    """0 if `address` may create an account now; otherwise the whole minutes (at least 1)
    until the oldest of its sign-ups in the last hour leaves the window."""
    limit = settings.SIGNUP_LIMIT_PER_HOUR
    if limit <= 0:
        return 0
    now = now or timezone.now()
    records = SignUpRecord.objects.all()
    return minutes_until_a_place_frees(records, address=address, limit=limit, now=now)


def minutes_until_a_place_frees(
    records: QuerySet[Any], *, address: str, limit: int, now: datetime
) -> int:
    """0 if `address` has fewer than `limit` of `records` (address, created_at) in the hour
    before `now`; otherwise the whole minutes (at least 1) until the oldest of them leaves."""
    recent = records.filter(address=address[:64], created_at__gt=now - WINDOW)
    times = list(recent.order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(times) < limit:
        return 0
    # The limit-th newest record is the one whose leaving frees a place.
    frees_at = times[-1] + WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds() / 60))


def sign_up(*, form: SignUpForm, address: str) -> User:
    """Create the account from a valid form and count it against its address.

    The password is hashed first, outside the transaction: hashing takes a good part of a
    second by design, and on SQLite every other writer would wait that long for it.
    """
    user = form.save(commit=False)  # hashes the password
    with transaction.atomic():
        now = timezone.now()
        user.save()
        form.save_m2m()
        SignUpRecord.objects.filter(created_at__lte=now - WINDOW).delete()
        SignUpRecord.objects.create(address=address[:64], created_at=now)
    return user
