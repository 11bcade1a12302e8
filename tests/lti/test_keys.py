"""The tool's signing key: made once by `ensure_lti_key` (which `make setup` and `make serve`
run), replaced by `rotate_lti_key`, and listed at /lti/jwks.json with the key it replaced
for a grace period."""

import io
import time
import uuid
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
import requests
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import Key
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

from learning.lti import keys
from tests.lti_platform import AGS_SCOPES, FakePlatform

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def listed_kids(client: Client) -> set[str]:
    response = client.get(reverse("lti:jwks"))
    assert response.status_code == 200
    return {key["kid"] for key in response.json()["keys"]}


def test_ensure_lti_key_makes_one_key_and_then_nothing(client):
    assert listed_kids(client) == set()
    assert "Made the LTI signing key" in run("ensure_lti_key")
    (key,) = Key.objects.all()
    assert run("ensure_lti_key") == ""
    assert list(Key.objects.all()) == [key]
    (listed,) = client.get(reverse("lti:jwks")).json()["keys"]
    assert (listed["kid"], listed["kty"], listed["alg"], listed["use"]) == (
        str(key),
        "RSA",
        "RS256",
        "sig",
    )
    assert "d" not in listed  # the public half only


def test_a_rotation_signs_with_the_new_key_and_lists_both(client):
    run("ensure_lti_key")
    old = keys.signing_key()
    output = run("rotate_lti_key")
    new = keys.signing_key()
    assert new is not None and old is not None and new != old
    assert f"Made the LTI signing key {new}" in output
    assert "Still listed until" in output and str(old) in output
    assert listed_kids(client) == {str(new), str(old)}
    # django-lti signs with the newest active key.
    registration_key = Key.objects.active().latest()
    assert registration_key == new


def test_the_replaced_key_leaves_the_list_once_the_grace_period_is_over(client):
    run("ensure_lti_key")
    old = keys.signing_key()
    run("rotate_lti_key")
    new = keys.signing_key()
    six_days_on = timezone.now() + timedelta(days=6)
    with time_machine.travel(six_days_on, tick=False):
        assert run("ensure_lti_key") == ""
        assert listed_kids(client) == {str(new), str(old)}
    with time_machine.travel(six_days_on + timedelta(days=1, minutes=1), tick=False):
        assert "Stopped listing 1 replaced LTI key" in run("ensure_lti_key")
        assert listed_kids(client) == {str(new)}
    old.refresh_from_db()
    assert not old.is_active  # kept, not deleted


def test_a_grace_of_zero_drops_the_replaced_key_at_once(client):
    run("ensure_lti_key")
    run("rotate_lti_key", "--grace-days", "0")
    assert listed_kids(client) == {str(keys.signing_key())}


def test_the_signing_key_is_never_retired_however_old(client):
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        run("ensure_lti_key")
    key = keys.signing_key()
    assert run("ensure_lti_key", "--grace-days", "0") == ""
    assert listed_kids(client) == {str(key)}


def test_a_second_rotation_within_the_grace_period_keeps_both_earlier_keys(client):
    run("ensure_lti_key")
    first = keys.signing_key()
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        run("rotate_lti_key")
        second = keys.signing_key()
    with time_machine.travel(timezone.now() + timedelta(days=4), tick=False):
        run("rotate_lti_key")
        third = keys.signing_key()
        assert listed_kids(client) == {str(third), str(second), str(first)}
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        run("ensure_lti_key")
        assert listed_kids(client) == {str(third), str(second)}


def test_setup_and_serve_make_the_key_without_rotating_it():
    setup = (ROOT / "Makefile").read_text().split("\nsetup:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py ensure_lti_key" in setup
    assert "rotate" not in setup
    assert "manage.py ensure_lti_key" in (ROOT / "scripts" / "serve").read_text()


def client_assertion(platform: FakePlatform, key: Key) -> str:
    """A client assertion signed with `key`, as PyLTI1p3's ServiceConnector makes one."""
    now = int(time.time())
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_url,
        "iat": now - 5,
        "exp": now + 60,
        "jti": f"lti-service-token-{uuid.uuid4()}",
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": str(key)})


def ask_for_a_token(platform: FakePlatform, key: Key) -> requests.Response:
    """The client-credentials request, over HTTP, with an assertion signed by `key`."""
    assertion = client_assertion(platform, key)
    data = {"grant_type": "client_credentials", "client_assertion": assertion}
    return requests.post(platform.token_url, data=data, timeout=10)


@pytest.mark.django_db(transaction=True)
def test_the_lms_accepts_the_new_keys_assertions_and_refuses_a_retired_keys(
    lti_platform: FakePlatform,
):
    registration = lti_platform.register()
    old = keys.signing_key()
    run("rotate_lti_key")
    new = keys.signing_key()
    assert old is not None and new is not None and new != old
    tool = registration.to_registration()
    assert tool.get_kid() == str(new)
    assert ServiceConnector(tool).get_access_token(AGS_SCOPES)
    assert len(lti_platform.token_requests) == 1
    # While the old key is listed, what it signed just before the rotation still verifies.
    assert ask_for_a_token(lti_platform, old).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        run("ensure_lti_key")
        assert ServiceConnector(registration.to_registration()).get_access_token(AGS_SCOPES)
        assert len(lti_platform.token_requests) == 3
        assert ask_for_a_token(lti_platform, old).status_code == 401
        with pytest.raises(LtiServiceException):
            stale = registration.to_registration()
            stale.set_tool_private_key(old.private_key).set_tool_public_key(old.public_key)
            ServiceConnector(stale).get_access_token(AGS_SCOPES)
