"""What an LMS administrator pastes into their LMS to add the course as an LTI 1.3 tool,
and how ready a registration is: the content of the platform page in the admin.

Field names are the LMS's own: Moodle's "Configure a tool manually" form (Site
administration > Plugins > Activity modules > External tool > Manage tools) and a Canvas
LTI developer key's JSON configuration (Admin > Developer Keys > + Developer Key > + LTI
Key, method "Paste JSON").
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Max
from django.urls import reverse
from lti_tool.models import Key, LtiContext, LtiDeployment, LtiRegistration, LtiUser

from learning.lti import keys
from learning.models import Topic

TOOL_NAME = "Muscle Spasms, Explained"
TOOL_DESCRIPTION = (
    "Short lessons on muscle physiology and muscle spasms, each with a scored quiz whose "
    "score goes to the course gradebook. Educational, not medical advice."
)
TOOL_ID = "muscle-spasms-explained"

AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPES = ("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",)
SCOPES = AGS_SCOPES + NRPS_SCOPES

# Custom parameters (Moodle's "Custom parameters", Canvas's custom fields): a link that
# carries one opens that page instead of the course page. Deep linking sets them for you.
TARGETS = (
    ("topic:<slug>", "the topic's lesson"),
    ("quiz:<slug>", "the topic's quiz (graded when the link has a gradebook column)"),
    ("review", "the learner's spaced review"),
    ("challenge", "the course challenge (graded too)"),
)


@dataclass(frozen=True)
class ToolUrls:
    """The tool's addresses for one registration, absolute."""

    login: str  # OIDC login initiation: the registration's own
    launch: str  # the redirect URI, the target link URI and the deep-linking URL
    jwks: str

    @property
    def deep_linking(self) -> str:
        # One launch URL takes every message: the id_token's message type tells a
        # deep-linking request (a teacher picking a quiz) from a learner's launch.
        return self.launch

    @property
    def domain(self) -> str:
        return urlsplit(self.launch).netloc


def tool_urls(base_url: str, registration: LtiRegistration) -> ToolUrls:
    """`base_url`: scheme and host the LMS reaches the site at, such as
    https://course.example.org."""
    base_url = base_url.rstrip("/")
    return ToolUrls(
        login=base_url + reverse("lti:login", args=[registration.uuid]),
        launch=base_url + reverse("lti:launch"),
        jwks=base_url + reverse("lti:jwks"),
    )


def canvas_configuration(urls: ToolUrls) -> dict[str, Any]:
    """A Canvas LTI developer key's JSON configuration. The two placements open the quiz
    picker (deep linking): a module's "External Tool" item and an assignment's "External
    Tool" submission type, which makes a gradebook column."""
    placements = [
        {
            "placement": placement,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": urls.deep_linking,
            "text": f"{TOOL_NAME}: pick a quiz",
            "selection_width": 800,
            "selection_height": 600,
        }
        for placement in ("link_selection", "assignment_selection")
    ]
    return {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "domain": urls.domain,
                "tool_id": TOOL_ID,
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {"text": TOOL_NAME, "placements": placements},
            }
        ],
        # Each deep-linked quiz carries its own target; nothing is needed course-wide.
        "custom_fields": {},
    }


def canvas_json(urls: ToolUrls) -> str:
    return json.dumps(canvas_configuration(urls), indent=2)


def public_key_pem(signing_key: Key | None) -> str:
    """The signing key's public half, for an LMS that wants a key rather than a URL."""
    return signing_key.public_key.strip() if signing_key is not None else ""


@dataclass(frozen=True)
class TopicTargets:
    title: str
    lesson: str
    quiz: str


def topic_targets() -> list[TopicTargets]:
    """The custom parameter that opens each published topic's lesson and quiz."""
    return [
        TopicTargets(title=title, lesson=f"target=topic:{slug}", quiz=f"target=quiz:{slug}")
        for title, slug in Topic.objects.filter(is_published=True)
        .order_by("order", "title")
        .values_list("title", "slug")
    ]


@dataclass(frozen=True)
class SetupStatus:
    signing_key: Key | None
    listed_key_count: int
    deployments: list[LtiDeployment]
    last_launch: datetime | None
    missing: list[str]  # what the registration still lacks before a launch can work

    @property
    def active_deployments(self) -> list[LtiDeployment]:
        return [deployment for deployment in self.deployments if deployment.is_active]

    @property
    def ready(self) -> bool:
        return not self.missing


REQUIRED_FIELDS = (
    ("client_id", "the client ID"),
    ("auth_url", "the authentication request (OIDC auth) URL"),
    ("token_url", "the access token URL"),
    ("keyset_url", "the platform's keyset (JWKS) URL"),
)


def setup_status(registration: LtiRegistration) -> SetupStatus:
    """How ready the registration is. Five queries: keys, key count, deployments, and
    the newest LTI user and LMS course of this platform."""
    signing_key = keys.signing_key()
    deployments = list(registration.deployments.order_by("deployment_id"))
    missing = [label for name, label in REQUIRED_FIELDS if not getattr(registration, name)]
    if not any(deployment.is_active for deployment in deployments):
        missing.append("an active deployment ID")
    if not registration.is_active:
        missing.append("Active switched on")
    if signing_key is None:
        missing.append("the tool's signing key (manage.py ensure_lti_key)")
    return SetupStatus(
        signing_key=signing_key,
        listed_key_count=Key.objects.active().count(),
        deployments=deployments,
        last_launch=last_launch(registration),
        missing=missing,
    )


def last_launch(registration: LtiRegistration) -> datetime | None:
    """When a launch from this platform last wrote something: the newest change to one of
    its LTI users or LMS courses (None: no launch seen yet)."""
    times = [
        LtiUser.objects.filter(registration=registration).aggregate(t=Max("datetime_modified"))[
            "t"
        ],
        LtiContext.objects.filter(deployment__registration=registration).aggregate(
            t=Max("datetime_modified")
        )["t"],
    ]
    seen = [time for time in times if time is not None]
    return max(seen) if seen else None
