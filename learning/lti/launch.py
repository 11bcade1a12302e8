"""The two requests an LMS makes to start a launch: the OIDC login initiation and the
signed launch itself (LTI 1.3 core, section 5 and the OIDC third-party login flow).

A launch is checked whole before anything is written: the OIDC state against the cookie
set at the login, the id_token's signature against the platform's JWKS, its issuer,
audience, expiry and deployment, and its nonce, which is used up here so the same token
cannot launch twice. Only then does services.sign_in_from_launch write, in one
transaction.
"""

from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException

from learning.lti import services
from learning.lti.tool import ToolConfig, launch_data_storage


def refused(request: HttpRequest, reason: str, status: int = 403) -> HttpResponse:
    """A launch or login we cannot accept: a page saying why, nothing written."""
    return render(request, "lti/refused.html", {"reason": reason}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest, registration_uuid: Any) -> HttpResponse:
    """The LMS asks us to start an OIDC login: we set the state cookie, keep the nonce
    and send the browser to the platform's auth URL."""
    params = request.POST if request.method == "POST" else request.GET
    if not params.get("iss") or not params.get("login_hint"):
        return refused(request, "The LMS did not say who it is or who is launching.", 400)
    if not params.get("target_link_uri"):
        return refused(request, "The LMS did not say which page to open.", 400)
    tool_config = ToolConfig(registration_uuid)
    oidc_login = DjangoOIDCLogin(request, tool_config, launch_data_storage=launch_data_storage())
    try:
        return oidc_login.redirect(request.build_absolute_uri(_launch_path()))
    except LtiException:
        return refused(
            request, "This LMS is not registered here, or its registration is switched off."
        )


def _launch_path() -> str:
    from django.urls import reverse

    return reverse("lti:launch")


@csrf_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    try:
        message_launch = DjangoMessageLaunch(
            request, ToolConfig(), launch_data_storage=launch_data_storage()
        )
        message_launch.validate()
    except LtiException as error:
        return refused(request, services.refusal_reason(str(error)))
    if not services.use_up_nonce(message_launch):
        return refused(request, "This launch was already used. Open the link in your LMS again.")
    outcome = services.sign_in_from_launch(message_launch)
    login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(outcome.next_url)
