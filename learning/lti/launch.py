"""The two requests an LMS makes to start a launch: the OIDC login initiation and the
signed launch itself (LTI 1.3 core, section 5 and the OIDC third-party login flow).

A launch is checked whole before anything is written: the OIDC state against the cookie
set at the login, the id_token's signature against the platform's JWKS, its issuer,
audience, expiry, issue time and deployment, its nonce, its message type and the claims
we use (services.read_launch). The nonce is then used up, so the same token cannot launch
twice, and only then does services.sign_in_from_launch write, in one transaction.
"""

import json
import time
from base64 import urlsafe_b64decode
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.contrib import messages
from django.contrib.auth import login
from django.db import DataError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from jwcrypto.common import JWException
from lti_tool.models import LtiDeployment, LtiRegistration
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException

from learning.lti import services
from learning.lti.framing import (
    LAUNCH_ORIGINS_KEY,
    REGISTRATION_KEY,
    allow_framing_by,
    registration_origins,
)
from learning.lti.tool import ToolConfig, launch_data_storage

# Where the login's cookie check sends the browser on: the same login, checked.
COOKIES_CHECKED = "cookies_checked"
# What the login passes on from the LMS when the cookie check sends the browser back.
LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
)

# What PyLTI1p3 raises on a launch it cannot use. Besides its own exceptions, a token
# whose parts decode to something other than JSON objects (a list, a number) or a JWKS
# of the wrong shape make it fail inside, with Python's own errors (JSON nested too deep
# to read is a RecursionError): refused all the same, never a 500.
UNUSABLE_LAUNCH = (
    LtiException,
    OIDCException,
    jwt.PyJWTError,
    JWException,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    RecursionError,
)

# The token must say when it was issued and when it expires (PyJWT checks them only when
# they are there).
JWT_CHECKS: dict[str, Any] = {"verify_aud": False, "require": ["exp", "iat"]}

# The platform's JWKS is fetched during the launch, by the worker answering it: a platform
# that answers slowly, drip-feeds or sends megabytes must not hold that worker. A key set
# is a few kilobytes; each read waits at most KEYSET_SECONDS, and reading the whole answer
# stops soon after that long.
KEYSET_SECONDS = 5
KEYSET_BYTES = 256 * 1024
KEYSET_REDIRECTS = 3
# How long a deep-linking launch waits in the cache for the teacher's pick.
DEEP_LINK_SECONDS = 3600


class _KeysetSession(requests.Session):
    """What PyLTI1p3 fetches the platform's JWKS with: bounded in time and size."""

    def __init__(self) -> None:
        super().__init__()
        self.max_redirects = KEYSET_REDIRECTS
        self.headers["User-Agent"] = "muscle-spasms-course (PyLTI1p3)"

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        deadline = time.monotonic() + KEYSET_SECONDS
        kwargs.update(timeout=KEYSET_SECONDS, stream=True)
        response = super().request(*args, **kwargs)
        body = bytearray()
        try:
            for chunk in response.iter_content(16 * 1024):
                body += chunk
                if len(body) > KEYSET_BYTES:
                    # Not a key set: an empty answer, which PyLTI1p3 refuses as unreadable.
                    body.clear()
                    break
                if time.monotonic() > deadline:
                    raise requests.Timeout(f"no whole answer within {KEYSET_SECONDS} seconds")
        finally:
            response.close()
        response._content = bytes(body)
        return response


class _CheckedLaunch(DjangoMessageLaunch):
    """PyLTI1p3's launch, except that validating it keeps nothing: PyLTI1p3 would store
    the claims and mark the state as good, so that a launch refused after its signature
    was checked (our own checks, services.read_launch) could be posted again, state and
    all, from a browser without the state cookie. `keep_for_deep_linking` stores an
    accepted deep-linking launch for the picker."""

    def save_launch_data(self) -> "_CheckedLaunch":
        return self

    def keep_for_deep_linking(self) -> None:
        session_service = self.get_session_service()
        session_service.set_launch_data_lifetime(DEEP_LINK_SECONDS)
        session_service.save_launch_data(self.get_launch_id(), self.get_launch_data())


def refused(
    request: HttpRequest,
    reason: str,
    status: int = 403,
    *,
    registration: LtiRegistration | None = None,
) -> HttpResponse:
    """A launch or login we cannot accept: a page saying why, nothing written. Inside
    the frame of the platform it names, when that one is registered."""
    in_frame = request.headers.get("Sec-Fetch-Dest") == "iframe"
    response = render(
        request, "lti/refused.html", {"reason": reason, "in_frame": in_frame}, status=status
    )
    if registration is not None:
        allow_framing_by(response, registration_origins(registration))
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest, registration_uuid: Any) -> HttpResponse:
    """The LMS asks us to start an OIDC login: we set the state cookie, keep the nonce
    and send the browser to the platform's auth URL."""
    params = request.POST if request.method == "POST" else request.GET
    registration = LtiRegistration.objects.active().filter(uuid=registration_uuid).first()
    if not params.get("iss") or not params.get("login_hint"):
        return refused(
            request,
            "The LMS did not say who it is or who is launching.",
            400,
            registration=registration,
        )
    if not params.get("target_link_uri"):
        return refused(
            request, "The LMS did not say which page to open.", 400, registration=registration
        )
    if not all(services.is_storable(params.get(name, "")) for name in LOGIN_PARAMS):
        return refused(request, services.UNREADABLE_LOGIN, 400, registration=registration)
    if registration is None or registration.issuer != params["iss"]:
        return refused(request, services.NOT_REGISTERED)
    deployment_id = params.get("lti_deployment_id")
    if deployment_id and not _is_active_deployment(registration, deployment_id):
        return refused(request, services.NOT_DEPLOYED, registration=registration)
    if request.headers.get("Sec-Fetch-Dest") == "iframe" and not params.get(COOKIES_CHECKED):
        return _cookie_check(request, registration, params)
    oidc_login = DjangoOIDCLogin(
        request, ToolConfig(registration_uuid), launch_data_storage=launch_data_storage()
    )
    try:
        return oidc_login.redirect(request.build_absolute_uri(reverse("lti:launch")))
    except (LtiException, OIDCException):
        return refused(request, services.NOT_REGISTERED, registration=registration)
    except ValueError:  # tool.LaunchCache: PyLTI1p3's session cookie holds a NUL, say
        return refused(request, services.UNREADABLE_LOGIN, 400, registration=registration)


def _is_active_deployment(registration: LtiRegistration, deployment_id: str) -> bool:
    return LtiDeployment.objects.filter(
        registration=registration, deployment_id=deployment_id, is_active=True
    ).exists()


def _cookie_check(
    request: HttpRequest, registration: LtiRegistration, params: QueryDict
) -> HttpResponse:
    """Inside the LMS's frame, a browser that keeps our cookies out (Safari, or any with
    third-party cookies blocked) could never keep the learner signed in there: this page
    finds out, then carries on with the login in the frame, or offers a new window, where
    our cookies are first-party."""
    query = {name: params[name] for name in LOGIN_PARAMS if params.get(name)}
    query[COOKIES_CHECKED] = "1"
    login_url = reverse("lti:login", args=[registration.uuid])
    response = render(
        request, "lti/cookie_check.html", {"continue_url": f"{login_url}?{urlencode(query)}"}
    )
    return allow_framing_by(response, registration_origins(registration))  # type: ignore[return-value]


@csrf_exempt
def launch(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = refused(
            request,
            "A launch is sent by your LMS, not opened as a page: open the link in your LMS.",
            405,
        )
        response["Allow"] = "POST"
        return response
    message_launch = _CheckedLaunch(
        request, ToolConfig(), launch_data_storage=None, requests_session=_KeysetSession()
    )
    try:
        message_launch.set_launch_data_storage(launch_data_storage())
        message_launch.set_jwt_verify_options(JWT_CHECKS)
        message_launch.validate()
    except UNUSABLE_LAUNCH as error:
        reason, status = services.refusal_reason(str(error))
        return refused(request, reason, status, registration=_claimed_registration(request))
    except DataError:
        # Before the signature is checked PyLTI1p3 looks up the platform the token names
        # (the state and nonce are checked as cache keys: tool.LaunchCache): anyone can
        # put a NUL there, which PostgreSQL refuses.
        return refused(request, services.UNREADABLE, 400)
    tool_config = message_launch.get_tool_conf()
    registration, deployment = tool_config.registration, tool_config.deployment
    try:
        checked = services.read_launch(message_launch.get_launch_data())
        services.refuse_switched_off_account(registration, checked)
    except services.LaunchRefused as refusal:
        return refused(request, refusal.reason, refusal.status, registration=registration)
    if not services.use_up_nonce(message_launch):
        return refused(request, services.ALREADY_USED, registration=registration)
    outcome = services.sign_in_from_launch(
        registration=registration, deployment=deployment, launch=checked
    )
    # A session of anyone else in this browser ends here (login flushes it); the session
    # gets a new key whoever had it, as a launch is a sign-in of its own.
    login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.cycle_key()
    request.session[REGISTRATION_KEY] = registration.pk
    request.session[LAUNCH_ORIGINS_KEY] = list(checked.frame_origins)
    if checked.is_deep_linking:
        message_launch.keep_for_deep_linking()
        request.session["lti_deep_link_launch_id"] = message_launch.get_launch_id()
    if outcome.message:
        messages.info(request, outcome.message)
    return redirect(outcome.next_url)


def _claimed_registration(request: HttpRequest) -> LtiRegistration | None:
    """The registered platform a refused token claims to come from (unchecked): only to
    show the refusal inside its frame."""
    try:
        body = request.POST.get("id_token", "").split(".")[1]
        claims = json.loads(urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        audience = claims["aud"]
        client_id = audience[0] if isinstance(audience, list) else audience
        return (
            LtiRegistration.objects.active()
            .filter(issuer=str(claims["iss"]), client_id=str(client_id))
            .first()
        )
    except (IndexError, KeyError, TypeError, ValueError, RecursionError, DataError):
        return None
