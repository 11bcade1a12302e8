"""A test LMS: the LTI 1.3 platform side, played for real.

It has its own RSA key pair and serves its JWKS, OIDC auth, token, line item, score and
membership endpoints from the live server (tests/lti_platform_urls.py), so the tool
fetches keys, signs client assertions and posts scores over HTTP exactly as it would to
Moodle or Canvas. What the tool sends it is recorded for the tests to look at.

Use the `lti_platform` fixture (tests/conftest.py): it starts the live server, routes
/test-platform/ to this module's views and registers the platform in the admin's tables.
`serve_pages` serves the pages a browser opens (course page, OIDC auth, deep-linking
return) on a port of their own, as another origin than the tool's.
"""

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from django.core.handlers.wsgi import WSGIRequest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.test import Client
from django.test.testcases import QuietWSGIRequestHandler
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from jwcrypto.jwk import JWK
from lti_tool.models import LtiDeployment, LtiRegistration

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/"

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def new_key_pair() -> JWK:
    return JWK.generate(kty="RSA", size=2048, kid=uuid.uuid4().hex, alg="RS256", use="sig")


@dataclass
class ReceivedScore:
    lineitem_url: str
    score: dict[str, Any]
    access_token: str
    content_type: str = ""


@dataclass
class FakePlatform:
    """One LMS. `base_url` is the live server's; its endpoints live under /test-platform/."""

    base_url: str
    issuer: str = "https://lms.example.edu"
    client_id: str = "muscle-course-tool"
    deployment_id: str = "deployment-1"
    key: JWK = field(default_factory=new_key_pair)
    # Recorded from the tool:
    scores: list[ReceivedScore] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    deep_link_responses: list[dict[str, Any]] = field(default_factory=list)
    membership_requests: int = 0
    # Set by tests:
    members: list[dict[str, Any]] = field(default_factory=list)
    # Set instead of `members`: the roster in pages, each linking to the next (`?Page=<n>`,
    # capitalised as an LMS may write it); `roster_loops`: every page links to itself.
    member_pages: list[list[dict[str, Any]]] = field(default_factory=list)
    roster_loops: bool = False
    roster_text: str = ""  # set: the roster's answer is this text instead
    failing_score_posts: int = 0  # the next N score posts are answered 503
    # Set: each score post waits until the test sets this event (a slow LMS).
    score_gate: threading.Event | None = None
    # A slow or bloated JWKS: seconds its answer takes, characters of padding it carries.
    jwks_delay: float = 0
    jwks_padding: int = 0
    # Set: the JWKS URL answers this text instead of the key set.
    jwks_text: str = ""
    # Other key pairs, each served at `jwks_url?key=<name>` (another platform's keys).
    other_keys: dict[str, JWK] = field(default_factory=dict)
    # Launches prepared for the browser (OIDC auth endpoint), by login_hint.
    prepared: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Where the pages a browser opens (auth, course page, deep-linking return) are served
    # when not by the live server: the base URL `serve_pages` gave. Set before register().
    pages_base_url: str | None = None

    # -- URLs the platform has -------------------------------------------------------
    def url(self, path: str) -> str:
        return f"{self.base_url}/test-platform/{path}"

    def page_url(self, path: str) -> str:
        """A page the browser opens: on the LMS's own origin when it has one."""
        return f"{self.pages_base_url or self.base_url}/test-platform/{path}"

    @property
    def auth_url(self) -> str:
        return self.page_url("auth/")

    @property
    def token_url(self) -> str:
        return self.url("token/")

    @property
    def jwks_url(self) -> str:
        return self.url("jwks/")

    @property
    def memberships_url(self) -> str:
        return self.url("memberships/")

    @property
    def lineitems_url(self) -> str:
        return self.url("lineitems/")

    def lineitem_url(self, number: int) -> str:
        return self.url(f"lineitems/{number}/")

    @property
    def deep_link_return_url(self) -> str:
        return self.page_url("deep-link-return/")

    def jwks(self) -> dict[str, Any]:
        return {"keys": [json.loads(self.key.export_public())]}

    # -- the admin side ---------------------------------------------------------------
    def register(self, **fields: Any) -> LtiRegistration:
        """What a superuser enters in the admin for this platform, with one active
        deployment."""
        values = {
            "name": "Test LMS",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "auth_url": self.auth_url,
            "token_url": self.token_url,
            "keyset_url": self.jwks_url,
        }
        values.update(fields)
        registration = LtiRegistration.objects.create(**values)
        LtiDeployment.objects.create(
            registration=registration, deployment_id=self.deployment_id, is_active=True
        )
        return registration

    # -- messages -----------------------------------------------------------------------
    def claims(
        self,
        *,
        nonce: str,
        message_type: str = "LtiResourceLinkRequest",
        sub: str = "learner-1",
        roles: list[str] | None = None,
        name: str | None = "Ada Lovelace",
        email: str | None = "ada@school.example",
        context_id: str = "course-101",
        context_title: str = "Physiology 101",
        resource_link_id: str = "link-1",
        custom: dict[str, str] | None = None,
        lineitem: str | None = None,
        target_link_uri: str | None = None,
        lifetime: int = 300,
        **extra: Any,
    ) -> dict[str, Any]:
        """The id_token body of a launch, as an LMS sends it."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + lifetime,
            "nonce": nonce,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": target_link_uri or f"{self.base_url}/lti/launch/",
            LTI + "roles": roles if roles is not None else [LEARNER],
            LTI + "context": {
                "id": context_id,
                "label": context_title.split()[0],
                "title": context_title,
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
            LTI + "tool_platform": {"guid": "test-lms", "name": "Test LMS"},
            NRPS + "namesroleservice": {
                "context_memberships_url": self.memberships_url,
                "service_versions": ["2.0"],
            },
        }
        if name is not None:
            body["name"] = name
            body["given_name"], _, body["family_name"] = name.partition(" ")
        if email is not None:
            body["email"] = email
        if custom is not None:
            body[LTI + "custom"] = custom
        if message_type == "LtiResourceLinkRequest":
            body[LTI + "resource_link"] = {"id": resource_link_id, "title": "Muscle spasms"}
            ags: dict[str, Any] = {"scope": AGS_SCOPES, "lineitems": self.lineitems_url}
            if lineitem is not None:
                ags["lineitem"] = lineitem
            body[AGS + "endpoint"] = ags
        elif message_type == "LtiDeepLinkingRequest":
            body[DL + "deep_linking_settings"] = {
                "deep_link_return_url": self.deep_link_return_url,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False,
                "auto_create": True,
                "data": "platform-opaque-data",
            }
            body[AGS + "endpoint"] = {"scope": AGS_SCOPES, "lineitems": self.lineitems_url}
        body.update(extra)
        return body

    def sign(self, body: dict[str, Any], key: JWK | None = None) -> str:
        key = key or self.key
        private_pem = key.export_to_pem(private_key=True, password=None)
        return jwt.encode(body, private_pem, algorithm="RS256", headers={"kid": key["kid"]})

    # -- a launch through the Django test client ---------------------------------------
    def login(
        self,
        client: Client,
        registration: LtiRegistration,
        *,
        login_hint: str = "hint-1",
        lti_message_hint: str = "message-hint-1",
        secure: bool = False,
    ) -> tuple[str, str]:
        """The OIDC login initiation, as the LMS starts it; returns (state, nonce) from
        the tool's redirect to this platform's auth URL. `secure`: over HTTPS."""
        response = client.get(
            reverse("lti:login", args=[registration.uuid]),
            {
                "iss": self.issuer,
                "client_id": registration.client_id,
                "login_hint": login_hint,
                "lti_message_hint": lti_message_hint,
                "target_link_uri": f"{self.base_url}/lti/launch/",
                "lti_deployment_id": self.deployment_id,
            },
            secure=secure,
        )
        assert response.status_code == 302, response.content[:500]
        location = response["Location"]
        assert location.startswith(registration.auth_url), location
        query = parse_qs(urlsplit(location).query)
        return query["state"][0], query["nonce"][0]

    def launch(
        self,
        client: Client,
        registration: LtiRegistration,
        *,
        follow: bool = False,
        secure: bool = False,
        **claims: Any,
    ) -> Any:
        """Login initiation, then the signed launch POST the LMS's auth endpoint makes."""
        state, nonce = self.login(client, registration, secure=secure)
        id_token = self.sign(self.claims(nonce=nonce, **claims))
        return client.post(
            reverse("lti:launch"),
            {"id_token": id_token, "state": state},
            follow=follow,
            secure=secure,
        )

    def post_launch(self, client: Client, id_token: str, state: str, **kwargs: Any) -> Any:
        return client.post(reverse("lti:launch"), {"id_token": id_token, "state": state}, **kwargs)

    # -- for a browser: a course page that frames the tool ------------------------------
    def prepare_browser_launch(self, **claims: Any) -> str:
        """Remember a launch's claims under a fresh login_hint, for the auth endpoint."""
        login_hint = secrets.token_urlsafe(8)
        self.prepared[login_hint] = claims
        return login_hint

    def course_page_url(self, login_hint: str) -> str:
        """The LMS's course page, framing the tool's launch for this login_hint."""
        return self.page_url(f"course/?{urlencode({'login_hint': login_hint})}")

    def framing_page_url(self, src: str, *, on: str | None = None) -> str:
        """An LMS page framing any URL (`frame_view`); `on`: the same page served from
        that base URL instead (another site's)."""
        page = f"frame/?{urlencode({'src': src})}"
        return f"{on}/test-platform/{page}" if on else self.page_url(page)

    def login_initiation_url(self, registration: LtiRegistration, login_hint: str) -> str:
        query = {
            "iss": self.issuer,
            "client_id": registration.client_id,
            "login_hint": login_hint,
            "target_link_uri": f"{self.base_url}/lti/launch/",
            "lti_deployment_id": self.deployment_id,
        }
        return f"{self.base_url}/lti/login/{registration.uuid}/?{urlencode(query)}"


# The platform the live server's /test-platform/ views answer for (the fixture sets it).
CURRENT: list[FakePlatform] = []


def current() -> FakePlatform:
    assert CURRENT, "no test platform: use the lti_platform fixture"
    return CURRENT[-1]


def _tool_jwks_client(platform: FakePlatform) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(f"{platform.base_url}/lti/jwks.json", cache_jwk_set=False)


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip()
    return token if header.startswith("Bearer ") else None


def jwks_view(request: HttpRequest) -> HttpResponse:
    platform = current()
    if platform.jwks_delay:
        time.sleep(platform.jwks_delay)
    if platform.jwks_text:
        return HttpResponse(platform.jwks_text, content_type="application/json")
    keys = platform.jwks()
    if request.GET.get("key"):
        keys = {"keys": [json.loads(platform.other_keys[request.GET["key"]].export_public())]}
    if platform.jwks_padding:
        keys["padding"] = "x" * platform.jwks_padding
    return JsonResponse(keys)


def auth_view(request: HttpRequest) -> HttpResponse:
    """The LMS's OIDC authorization endpoint: answers the tool's redirect with a form that
    posts the signed id_token back to the tool's launch URL."""
    platform = current()
    params = request.GET
    claims = platform.prepared.get(params.get("login_hint", ""))
    if claims is None or params.get("client_id") != platform.client_id:
        return HttpResponse("Unknown login", status=400)
    id_token = platform.sign(platform.claims(nonce=params["nonce"], **claims))
    redirect_uri = escape(params["redirect_uri"])
    nonce = secrets.token_urlsafe(16)
    response = HttpResponse(
        f"""<!doctype html><title>Test LMS</title>
<form id="launch" method="post" action="{redirect_uri}">
<input type="hidden" name="id_token" value="{escape(id_token)}">
<input type="hidden" name="state" value="{escape(params["state"])}">
<noscript><button>Continue</button></noscript></form>
<script nonce="{nonce}">document.getElementById("launch").submit()</script>"""
    )
    # The LMS's own page, shown inside its own course page's frame: its policy, not ours.
    response["Content-Security-Policy"] = f"script-src 'nonce-{nonce}'; frame-ancestors 'self'"
    response.xframe_options_exempt = True
    return response


def course_view(request: HttpRequest) -> HttpResponse:
    """The LMS's course page: the tool in a frame, launched for the login_hint that
    `prepare_browser_launch` returned."""
    platform = current()
    registration = LtiRegistration.objects.get(
        issuer=platform.issuer, client_id=platform.client_id
    )
    src = platform.login_initiation_url(registration, request.GET.get("login_hint", ""))
    return _framing_page(src)


def frame_view(request: HttpRequest) -> HttpResponse:
    """A page of the LMS (or of anyone: the same page served elsewhere) framing `src`."""
    src = request.GET.get("src", "")
    if not src.startswith(("http://", "https://")):
        return HttpResponse("No page to frame", status=400)
    return _framing_page(src)


def _framing_page(src: str) -> HttpResponse:
    """As an LMS shows a tool: the course's name, then the tool across the whole width
    and the rest of the window's height."""
    return HttpResponse(
        f"""<!doctype html><html lang="en">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Physiology 101 · Test LMS</title>
<style>
body {{ margin: 0; font-family: sans-serif; }}
h1 {{ margin: 0; height: 3rem; line-height: 3rem; padding: 0 1rem; font-size: 1.25rem;
     background: #2b3a4a; color: #fff; }}
iframe {{ display: block; width: 100%; height: calc(100vh - 3rem); border: 0; }}
</style>
<h1>Physiology 101</h1>
<iframe title="Muscle Spasms, Explained" src="{escape(src)}"></iframe>"""
    )


@csrf_exempt
def token_view(request: HttpRequest) -> JsonResponse:
    """OAuth 2 client credentials with a JWT assertion signed by the tool's key, checked
    against the tool's JWKS fetched over HTTP."""
    platform = current()
    assertion = request.POST.get("client_assertion", "")
    try:
        signing_key = _tool_jwks_client(platform).get_signing_key_from_jwt(assertion)
        claims = jwt.decode(
            assertion,
            signing_key.key,
            algorithms=["RS256"],
            audience=platform.token_url,
            issuer=platform.client_id,
        )
    except jwt.PyJWTError as error:
        return JsonResponse({"error": "invalid_client", "detail": str(error)}, status=401)
    if claims.get("sub") != platform.client_id:
        return JsonResponse({"error": "invalid_client"}, status=401)
    token = secrets.token_urlsafe(16)
    with platform.lock:
        platform.issued_tokens.add(token)
        platform.token_requests.append({"scope": request.POST.get("scope", ""), **claims})
    return JsonResponse(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": request.POST.get("scope", ""),
        }
    )


@csrf_exempt
def lineitems_view(request: HttpRequest) -> JsonResponse:
    """The course's line items: none listed; one created on POST."""
    platform = current()
    if _bearer(request) not in platform.issued_tokens:
        return JsonResponse({"error": "unauthorized"}, status=401)
    if request.method == "POST":
        item = json.loads(request.body)
        item["id"] = platform.lineitem_url(len(platform.scores) + 100)
        return JsonResponse(item, status=201)
    return JsonResponse([], safe=False)


@csrf_exempt
def scores_view(request: HttpRequest, number: int) -> HttpResponse:
    platform = current()
    token = _bearer(request)
    if token not in platform.issued_tokens:
        return JsonResponse({"error": "unauthorized"}, status=401)
    if platform.score_gate is not None:
        platform.score_gate.wait(30)
    with platform.lock:
        if platform.failing_score_posts > 0:
            platform.failing_score_posts -= 1
            return HttpResponse("LMS down for maintenance", status=503, content_type="text/plain")
        platform.scores.append(
            ReceivedScore(
                platform.lineitem_url(number),
                json.loads(request.body),
                token,
                request.headers.get("Content-Type", ""),
            )
        )
    return HttpResponse(status=204)


# Where the test LMS stops answering a roster that never ends (a tool that kept following
# its links would otherwise hang the test).
ROSTER_REQUESTS_AT_MOST = 300


def memberships_view(request: HttpRequest) -> HttpResponse:
    platform = current()
    if _bearer(request) not in platform.issued_tokens:
        return JsonResponse({"error": "unauthorized"}, status=401)
    platform.membership_requests += 1
    if platform.roster_text:
        return HttpResponse(platform.roster_text, content_type="application/json")
    if platform.membership_requests > ROSTER_REQUESTS_AT_MOST:
        return JsonResponse({"error": "too many requests"}, status=429)
    members, next_url = platform.members, None
    if platform.member_pages:
        number = int(request.GET.get("Page", "1"))
        members = platform.member_pages[number - 1]
        if number < len(platform.member_pages):
            next_url = f"{platform.memberships_url}?Page={number + 1}"
    if platform.roster_loops:
        next_url = platform.memberships_url
    response = JsonResponse(
        {
            "id": platform.memberships_url,
            "context": {"id": "course-101", "title": "Physiology 101"},
            "members": members,
        },
        content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
    )
    if next_url is not None:
        response["Link"] = f'<{next_url}>; rel="next"'
    return response


@csrf_exempt
def deep_link_return_view(request: HttpRequest) -> HttpResponse:
    """Where the tool posts the teacher's pick: the signed JWT is checked against the
    tool's JWKS and kept."""
    platform = current()
    token = request.POST.get("JWT", "")
    try:
        signing_key = _tool_jwks_client(platform).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=platform.issuer)
    except jwt.PyJWTError as error:
        return HttpResponse(f"Refused: {error}", status=400)
    platform.deep_link_responses.append(claims)
    return HttpResponse("<!doctype html><title>Test LMS</title><p>Link saved in the course.")


# -- the LMS's browser pages as a site of their own ------------------------------------------

BROWSER_PAGES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/test-platform/auth/": auth_view,
    "/test-platform/course/": course_view,
    "/test-platform/frame/": frame_view,
    "/test-platform/deep-link-return/": deep_link_return_view,
}


def _browser_pages_app(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """The pages above, with none of the tool's middleware: no CSP of ours, no session,
    no cookies."""
    request = WSGIRequest(environ)
    view = BROWSER_PAGES.get(request.path)
    response = view(request) if view else HttpResponseNotFound("Not a page of the test LMS")
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


@contextmanager
def serve_pages(host: str = "localhost") -> Iterator[str]:
    """Serve the LMS's browser pages from a server of their own on a free port, another
    origin than the live server's; yields its base URL (`FakePlatform.pages_base_url`)."""
    server = ThreadedWSGIServer((host, 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(_browser_pages_app)
    thread = threading.Thread(target=server.serve_forever, name="test-lms-pages", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
