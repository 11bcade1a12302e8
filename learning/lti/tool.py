"""PyLTI1p3's view of our platforms and where it keeps a launch's state."""

from typing import Any
from unicodedata import category

from django.core.cache.backends.base import InvalidCacheKey
from django.core.cache.backends.db import DatabaseCache
from lti_tool.models import LtiDeployment, LtiRegistration
from lti_tool.utils import DjangoToolConfig, _prepare_deployment
from pylti1p3.contrib.django import DjangoCacheDataStorage
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration


class ToolConfig(DjangoToolConfig):
    """django-lti's configuration, except that a deployment id nobody registered in the
    admin is unknown: django-lti would create it (inactive) on first sight, which writes
    from an unchecked message. And a login initiation without a client_id (the LTI spec
    makes it optional) finds its platform by the registration's UUID in the login URL."""

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration | None:
        if client_id or self.registration_uuid is None:
            return super().find_registration_by_params(iss, client_id, *args, **kwargs)
        self.registration = (
            LtiRegistration.objects.active()
            .filter(uuid=self.registration_uuid, issuer=iss)
            .first()
        )
        return None if self.registration is None else self.registration.to_registration()

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self._registered_deployment(
            registration__uuid=self.registration_uuid,
            registration__issuer=iss,
            deployment_id=deployment_id,
        )

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        lookups = {
            "registration__issuer": iss,
            "registration__client_id": client_id,
            "deployment_id": deployment_id,
        }
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._registered_deployment(**lookups)

    def _registered_deployment(self, **lookups: Any) -> Deployment | None:
        deployment = (
            LtiDeployment.objects.filter(registration__is_active=True, is_active=True, **lookups)
            .select_related("registration")
            .first()
        )
        if deployment is None:
            return None
        self.deployment = deployment
        return _prepare_deployment(deployment)


def launch_data_storage() -> DjangoCacheDataStorage:
    """The OIDC state, nonces and validated launches, in the database cache
    (settings.CACHES["lti"]), shared by every worker."""
    return DjangoCacheDataStorage(cache_name="lti")


class LaunchCache(DatabaseCache):
    """settings.CACHES["lti"]: Django's database cache, whose keys hold what a request sent
    (PyLTI1p3's state, the token's nonce, its session cookie over HTTPS). A key its table
    cannot hold or look up (too long, a NUL PostgreSQL refuses, a character no database
    encodes) is an InvalidCacheKey, a ValueError, which the launch answers as a refusal;
    memcached's rules for keys (Django's warnings) do not apply to a database table."""

    def validate_key(self, key: str) -> None:
        if len(key) > KEY_LENGTH or any(category(c) in ("Cc", "Cs") for c in key):
            raise InvalidCacheKey("An LTI cache key its table cannot hold.")


KEY_LENGTH = 255  # the cache table's cache_key column
