"""Every launch the course must refuse, through the test LMS: a clear page (a 4xx, the
reason in words), nothing created, and the browser not signed in, or still signed in as
whoever it was before."""

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from jwcrypto.jwk import JWK
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink, LtiUser

from learning.lti.models import GradedLink
from learning.models import Classroom, Membership
from tests.factories import UserFactory
from tests.lti_platform import INSTRUCTOR, LEARNER, LTI, FakePlatform, new_key_pair

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS = (
    User,
    LtiUser,
    LtiContext,
    LtiMembership,
    LtiResourceLink,
    Classroom,
    Membership,
    GradedLink,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in RECORDS}


def signed_in(client: Client) -> User | None:
    user = client.get(reverse("learning:glossary")).wsgi_request.user
    return user if user.is_authenticated else None


@pytest.fixture(params=["nobody", "someone"])
def before(request, db) -> User | None:
    """Who the browser is signed in as before the refused launch."""
    return UserFactory.create(username="someone") if request.param == "someone" else None


@pytest.fixture
def visitor(client: Client, before: User | None) -> Client:
    if before is not None:
        client.force_login(before)
    return client


def assert_refused(response, client: Client, snapshot, before: User | None, status: int, said):
    assert response.status_code == status, response.content[:500]
    assert response.templates[0].name == "lti/refused.html"
    assert "This launch from your LMS was refused" in response.content.decode()
    assert said in response.content.decode(), response.content.decode()
    assert counts() == snapshot
    assert signed_in(client) == before


def unsigned(header: dict, body: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(body)}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Each case: (a launch built from the platform, the registration, the browser's state and
# nonce) -> the id_token and state posted; what the page says; its status.
type Case = Callable[[FakePlatform, object, str, str], tuple[str | None, str | None]]


def _expired(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce, lifetime=-10)), state


def _issued_in_the_future(platform, registration, state, nonce):
    later = int(time.time()) + 3600
    body = platform.claims(nonce=nonce, iat=later, exp=later + 300)
    return platform.sign(body), state


def _not_before_the_future(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce, nbf=int(time.time()) + 3600)), state


def _without_expiry(platform, registration, state, nonce):
    body = platform.claims(nonce=nonce)
    del body["exp"]
    return platform.sign(body), state


def _another_key_same_kid(platform, registration, state, nonce):
    impostor = JWK.generate(kty="RSA", size=2048, kid=platform.key["kid"], alg="RS256")
    return platform.sign(platform.claims(nonce=nonce), key=impostor), state


def _unknown_kid(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce), key=new_key_pair()), state


def _alg_none(platform, registration, state, nonce):
    header = {"alg": "none", "typ": "JWT", "kid": platform.key["kid"]}
    return unsigned(header, platform.claims(nonce=nonce)) + ".", state


def _hs256_with_the_public_key(platform, registration, state, nonce):
    header = {"alg": "HS256", "typ": "JWT", "kid": platform.key["kid"]}
    signing_input = unsigned(header, platform.claims(nonce=nonce))
    secret = platform.key.export_to_pem()  # the public key, as an HMAC secret
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}", state


def _unknown_issuer(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce, iss="https://elsewhere.example")), state


def _unknown_client(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce, aud="someone-elses-tool")), state


def _unknown_deployment(platform, registration, state, nonce):
    body = platform.claims(nonce=nonce, **{LTI + "deployment_id": "deployment-nobody-added"})
    return platform.sign(body), state


def _inactive_deployment(platform, registration, state, nonce):
    registration.deployments.update(is_active=False)
    return platform.sign(platform.claims(nonce=nonce)), state


def _inactive_registration(platform, registration, state, nonce):
    registration.is_active = False
    registration.save()
    return platform.sign(platform.claims(nonce=nonce)), state


def _three_garbled_parts(platform, registration, state, nonce):
    return "not.a.token", state


def _not_a_jwt(platform, registration, state, nonce):
    return "just-some-text", state


def _a_list_for_a_body(platform, registration, state, nonce):
    return unsigned({"alg": "RS256", "kid": platform.key["kid"]}, ["a", "list"]) + ".c2ln", state


def _a_list_for_a_header(platform, registration, state, nonce):
    body = platform.claims(nonce=nonce)
    return unsigned(["a", "list"], body) + ".c2ln", state


def _no_id_token(platform, registration, state, nonce):
    return None, state


def _no_state(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce)), None


def _no_sub(platform, registration, state, nonce):
    body = platform.claims(nonce=nonce)
    del body["sub"]
    return platform.sign(body), state


def _a_nonce_never_handed_out(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce="a-nonce-we-never-gave")), state


def _a_learner_deep_linking(platform, registration, state, nonce):
    body = platform.claims(nonce=nonce, message_type="LtiDeepLinkingRequest", roles=[LEARNER])
    return platform.sign(body), state


def _submission_review(platform, registration, state, nonce):
    body = platform.claims(
        nonce=nonce,
        message_type="LtiSubmissionReviewRequest",
        roles=[INSTRUCTOR],
        **{LTI + "for_user": {"user_id": "learner-1"}},
    )
    body["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = {
        "scope": [],
        "lineitem": platform.lineitem_url(1),
    }
    return platform.sign(body), state


def _data_privacy(platform, registration, state, nonce):
    body = platform.claims(
        nonce=nonce,
        message_type="DataPrivacyLaunchRequest",
        **{LTI + "for_user": {"user_id": "learner-1"}},
    )
    del body[LTI + "context"]
    return platform.sign(body), state


def _unknown_message_type(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce, message_type="LtiStartProctoring")), state


def _a_course_id_too_long(platform, registration, state, nonce):
    return platform.sign(platform.claims(nonce=nonce, context_id="c" * 300)), state


CASES: dict[str, tuple[Case, int, str]] = {
    "expired": (_expired, 403, "This launch has expired"),
    "issued in the future": (_issued_in_the_future, 403, "dated in the future"),
    "not valid before the future": (_not_before_the_future, 403, "dated in the future"),
    "without expiry": (_without_expiry, 403, "lacks its issue or expiry time"),
    "another key, same kid": (_another_key_same_kid, 403, "signature could not be checked"),
    "unknown kid": (_unknown_kid, 403, "signature could not be checked"),
    "alg none": (_alg_none, 403, "signature could not be checked"),
    "HS256 with the public key": (_hs256_with_the_public_key, 403, "signature could not"),
    "unknown issuer": (_unknown_issuer, 403, "This LMS is not registered here"),
    "unknown client id": (_unknown_client, 403, "This LMS is not registered here"),
    "unknown deployment": (_unknown_deployment, 403, "deployment is not registered here"),
    "inactive deployment": (_inactive_deployment, 403, "deployment is not registered here"),
    "inactive registration": (_inactive_registration, 403, "registration is switched off"),
    "three garbled parts": (_three_garbled_parts, 400, "cannot read"),
    "not a JWT": (_not_a_jwt, 400, "cannot read"),
    "a list for a body": (_a_list_for_a_body, 403, "could not be checked"),
    "a list for a header": (_a_list_for_a_header, 403, "could not be checked"),
    "no id_token": (_no_id_token, 400, "sent no launch token"),
    "no state": (_no_state, 400, "did not start in this browser session"),
    "no sub": (_no_sub, 403, "did not say who is launching"),
    "a nonce never handed out": (_a_nonce_never_handed_out, 403, "already used"),
    "a learner's deep linking": (_a_learner_deep_linking, 403, "Only a teacher"),
    "submission review": (_submission_review, 403, "submission review"),
    "data privacy": (_data_privacy, 403, "data privacy request"),
    "an unknown message type": (_unknown_message_type, 403, "does not take this kind"),
    "a course id too long": (_a_course_id_too_long, 403, "a course id this course cannot"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_launch_is_refused_and_changes_nothing(lti_platform, visitor, before, case):
    build, status, said = CASES[case]
    registration = lti_platform.register()
    state, nonce = lti_platform.login(visitor, registration)
    id_token, state_posted = build(lti_platform, registration, state, nonce)
    snapshot = counts()
    data = {name: value for name, value in (("id_token", id_token), ("state", state_posted))}
    response = visitor.post(
        reverse("lti:launch"), {k: v for k, v in data.items() if v is not None}
    )
    assert_refused(response, visitor, snapshot, before, status, said)


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("own_login", [False, True], ids=["no-login", "own-login"])
def test_a_launch_from_another_browser_session_is_refused(
    lti_platform, visitor, before, secure, own_login
):
    """The state cookie (over HTTPS, PyLTI1p3's session cookie too) was set in the browser
    the login went to, not this one; a login this browser made itself does not help."""
    registration = lti_platform.register()
    state, nonce = lti_platform.login(Client(), registration, secure=secure)
    if own_login:
        lti_platform.login(visitor, registration, login_hint="mine", secure=secure)
    id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
    snapshot = counts()
    response = lti_platform.post_launch(visitor, id_token, state, secure=secure)
    assert_refused(response, visitor, snapshot, before, 403, "did not start in this browser")


def test_the_same_token_twice_is_refused(lti_platform, client):
    registration = lti_platform.register()
    state, nonce = lti_platform.login(client, registration)
    id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
    assert lti_platform.post_launch(client, id_token, state).status_code == 302
    first = signed_in(client)
    snapshot = counts()
    replay = lti_platform.post_launch(client, id_token, state)
    assert_refused(replay, client, snapshot, first, 403, "already used")
    # and from a browser that never had the state
    other = Client()
    replay = lti_platform.post_launch(other, id_token, state)
    assert_refused(replay, other, snapshot, None, 403, "")


def test_a_second_token_with_a_used_nonce_is_refused(lti_platform, client):
    registration = lti_platform.register()
    state, nonce = lti_platform.login(client, registration)
    lti_platform.post_launch(client, lti_platform.sign(lti_platform.claims(nonce=nonce)), state)
    first = signed_in(client)
    snapshot = counts()
    forged = lti_platform.sign(
        lti_platform.claims(nonce=nonce, sub="someone-else", roles=[INSTRUCTOR])
    )
    response = lti_platform.post_launch(client, forged, state)
    assert_refused(response, client, snapshot, first, 403, "already used")


def test_get_on_the_launch_url_is_a_405_page(lti_platform, visitor, before):
    lti_platform.register()
    snapshot = counts()
    response = visitor.get(reverse("lti:launch"))
    assert response["Allow"] == "POST"
    assert_refused(response, visitor, snapshot, before, 405, "open the link in your LMS")


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks/"


@pytest.mark.parametrize(
    ("keyset", "said"),
    [
        ("closed port", "signing keys could not be fetched"),
        ("not JSON", "signing keys could not be read"),
        ("JSON without keys", "could not be checked"),
    ],
)
def test_a_platform_whose_keys_cannot_be_had_is_refused(
    lti_platform, visitor, before, keyset, said
):
    urls = {
        "closed port": closed_port_url(),
        "not JSON": lti_platform.auth_url,  # "Unknown login", in plain text
        "JSON without keys": lti_platform.memberships_url,  # {"error": "unauthorized"}
    }
    registration = lti_platform.register(keyset_url=urls[keyset])
    state, nonce = lti_platform.login(visitor, registration)
    snapshot = counts()
    response = lti_platform.post_launch(
        visitor, lti_platform.sign(lti_platform.claims(nonce=nonce)), state
    )
    assert_refused(response, visitor, snapshot, before, 403, said)
