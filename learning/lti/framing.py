"""Who may frame our pages, and cookies that work inside a frame, for LTI sessions only.

Every page says `frame-ancestors 'none'` and `X-Frame-Options: DENY` (settings.SECURE_CSP),
except:

- the launch's own pages (the login's cookie check, a refused login or launch): framed by
  the platform the request names, when it is registered and switched on;
- every page of a session that a launch started (`session["lti_registration_id"]`):
  framed by that launch's platform while its registration stays switched on.

A platform's origins are those of its issuer and its OIDC auth URL, from the admin, plus
the origins the signed launch itself named (its return URL, the platform's URL, the deep
linking return URL), kept in the session: Canvas's issuer (canvas.instructure.com) is not
where a school's Canvas runs, but its launches' return URLs are.

In those sessions over HTTPS the session, CSRF and messages cookies are sent with
`SameSite=None; Secure`, which a browser needs to send them inside a frame on another
site; every other session keeps `SameSite=Lax`.

Both are worked out per response, after the view: a page the page cache kept
(learning/page_cache.py) is stored without these headers and gets its own.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponseBase
from django.utils.csp import CSP
from lti_tool.models import LtiRegistration

REGISTRATION_KEY = "lti_registration_id"  # also learning.auth_messages.LTI_SESSION_KEY
LAUNCH_ORIGINS_KEY = "lti_frame_origins"

# An origin as it may stand in a CSP header: nothing that could end the directive.
_ORIGIN = re.compile(
    r"^https?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)


def origin_of(url: Any) -> str | None:
    """`https://lms.example.edu` for any URL on that site; None for anything else."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    return origin.lower() if _ORIGIN.match(origin) else None


def unique_origins(urls: Iterable[Any]) -> list[str]:
    found: list[str] = []
    for url in urls:
        origin = origin_of(url)
        if origin is not None and origin not in found:
            found.append(origin)
    return found


def registration_origins(registration: LtiRegistration) -> list[str]:
    return unique_origins([registration.issuer, registration.auth_url])


def allow_framing_by(response: HttpResponseBase, origins: Iterable[str]) -> HttpResponseBase:
    """Let these origins frame this one response (a launch's page)."""
    response.lti_frame_origins = list(origins)  # type: ignore[attr-defined]
    return response


def session_frame_origins(request: HttpRequest) -> list[str] | None:
    """The origins that may frame this session's pages; None if a launch did not start
    it, or its platform's registration is gone or switched off. Worked out once a
    request (one query, in LTI sessions only)."""
    if hasattr(request, "_lti_frame_origins"):
        return request._lti_frame_origins
    origins: list[str] | None = None
    session = getattr(request, "session", None)
    registration_id = session.get(REGISTRATION_KEY) if session is not None else None
    if isinstance(registration_id, int):
        registration = LtiRegistration.objects.active().filter(pk=registration_id).first()
        if registration is not None:
            launch_origins = session.get(LAUNCH_ORIGINS_KEY) if session is not None else None
            origins = unique_origins(
                [*registration_origins(registration), *(launch_origins or [])]
            )
    request._lti_frame_origins = origins  # type: ignore[attr-defined]
    return origins


type GetResponse = Callable[[HttpRequest], HttpResponseBase]


class LtiFramingMiddleware:
    """Below ContentSecurityPolicyMiddleware and XFrameOptionsMiddleware in MIDDLEWARE, so
    it sees the response first and tells them what to write."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        session = getattr(request, "session", None)
        registration_id = session.get(REGISTRATION_KEY) if session is not None else None
        launch_origins = session.get(LAUNCH_ORIGINS_KEY) if session is not None else None
        response = self.get_response(request)
        if registration_id is not None and REGISTRATION_KEY not in request.session:
            # Logging out inside the LMS's frame empties the session; the page that
            # follows (and the log-in page) must still show in that frame, not as the
            # browser's "refused to connect".
            request.session[REGISTRATION_KEY] = registration_id
            request.session[LAUNCH_ORIGINS_KEY] = launch_origins
        origins = getattr(response, "lti_frame_origins", None)
        if origins is None:
            origins = session_frame_origins(request)
        if origins is not None:
            policy = getattr(response, "_csp_config", None) or settings.SECURE_CSP
            response._csp_config = {  # type: ignore[attr-defined]
                **policy,
                "frame-ancestors": [CSP.SELF, *origins],
            }
            response.xframe_options_exempt = True  # type: ignore[attr-defined]
        return response


# The cookies a framed session needs: the session, the CSRF token, and the messages
# (Django's cookie storage, where a message goes before the session holds it).
FRAMED_COOKIES = (
    settings.SESSION_COOKIE_NAME,
    settings.CSRF_COOKIE_NAME,
    CookieStorage.cookie_name,
)


class LtiSessionCookiesMiddleware:
    """Above SessionMiddleware and CsrfViewMiddleware in MIDDLEWARE, so it sees the
    cookies they set."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.is_secure() and session_frame_origins(request) is not None:
            for name in FRAMED_COOKIES:
                morsel = response.cookies.get(name)
                if morsel is not None:
                    morsel["samesite"] = "None"
                    morsel["secure"] = True
        return response
