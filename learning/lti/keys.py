"""The tool's signing keys (django-lti's Key): one always active, rotated with a grace period.

The newest active key signs what the tool sends an LMS (client assertions for grades and
rosters, deep-linking responses: django-lti's `LtiRegistration.to_registration` takes
`Key.objects.active().latest()`); every active key is listed at /lti/jwks.json. A key
that a newer one replaced stays active, so still listed, until its successor has been
around for the grace period: a JWT signed just before a rotation, or a platform that
cached our key set, still verifies meanwhile.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from lti_tool.models import Key

DEFAULT_GRACE = timedelta(days=7)


@dataclass(frozen=True)
class KeyChanges:
    created: Key | None
    retired: int


def signing_key() -> Key | None:
    """The key the tool signs with now, if there is one."""
    return Key.objects.active().order_by("-datetime_created", "-pk").first()


def listed_keys() -> list[Key]:
    """The keys /lti/jwks.json lists, newest first."""
    return list(Key.objects.active().order_by("-datetime_created", "-pk"))


@transaction.atomic
def retire_replaced_keys(*, grace: timedelta) -> int:
    """Deactivate each active key whose successor is older than `grace`. The newest
    active key is never retired, so there is always one to sign with."""
    now = timezone.now()
    settled = (
        Key.objects.active()
        .filter(datetime_created__lte=now - grace)
        .aggregate(newest=Max("datetime_created"))["newest"]
    )
    if settled is None:
        return 0
    return Key.objects.active().filter(datetime_created__lt=settled).update(is_active=False)


@transaction.atomic
def ensure_key(*, grace: timedelta = DEFAULT_GRACE) -> KeyChanges:
    """Make a key if none is active (idempotent: run at every setup), and retire the
    replaced keys whose grace period is over."""
    # Serialises two setups starting at once on PostgreSQL; SQLite writes one at a time.
    list(Key.objects.select_for_update().filter(is_active=True))
    created = None if Key.objects.active().exists() else Key.objects.generate()
    return KeyChanges(created=created, retired=retire_replaced_keys(grace=grace))


@transaction.atomic
def rotate_key(*, grace: timedelta = DEFAULT_GRACE) -> KeyChanges:
    """A new signing key; the one it replaces stays listed for `grace` (0: dropped now,
    as after a leak)."""
    list(Key.objects.select_for_update().filter(is_active=True))
    new_key = Key.objects.generate()
    return KeyChanges(created=new_key, retired=retire_replaced_keys(grace=grace))
