"""What a checked launch does here: the account it signs in, its LMS course's class, and
the page it opens.

A launch is read whole first (`read_launch`: every claim we use, checked and cut to what
the tables hold), so a launch we cannot use is refused before anything is written; then
`sign_in_from_launch` writes, in one transaction.

The rule for roles (README, "What a launch does"): an Instructor or Administrator (the
course's, the institution's or the system's; short role names too) becomes staff, joins
the Teachers group and teaches the LMS course's class; a Learner joins that class. A
launch only ever adds: a later launch with another role, in this course or another, takes
away neither staff, nor the group, nor a class taught, nor a membership (an LMS's "view
as student" must not cost a teacher their class); the admin takes rights away. Someone
who teaches a course's class is not made one of its learners.
"""

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from lti_tool.lti_core.constants import (
    AgsScope,
    ContextRole,
    ContextType,
    InstitutionRole,
    SystemRole,
)
from lti_tool.lti_core.utils import normalize_role
from lti_tool.models import (
    LtiContext,
    LtiDeployment,
    LtiMembership,
    LtiRegistration,
    LtiResourceLink,
    LtiUser,
)
from pylti1p3.contrib.django import DjangoMessageLaunch

from learning import services as course_services
from learning.lti.framing import unique_origins
from learning.lti.models import GradedLink, LmsClass
from learning.lti.tool import launch_data_storage
from learning.models import Classroom, Membership, Quiz, QuizKind, Topic
from learning.teachers import TEACHERS_GROUP, sync_teachers_group

logger = logging.getLogger(__name__)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_SERVICE = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
# Launches the LMS may send that this course does not offer, in words.
OTHER_MESSAGES = {
    "LtiSubmissionReviewRequest": "a submission review",
    "DataPrivacyLaunchRequest": "a data privacy request",
}

TEACHING_ROLES = frozenset(
    {
        ContextRole.INSTRUCTOR.value,
        ContextRole.ADMINISTRATOR.value,
        InstitutionRole.ADMINISTRATOR.value,
        SystemRole.ADMINISTRATOR.value,
    }
)

# What the tables hold (django-lti's and Django's field lengths).
ID_LENGTH = 255
URL_LENGTH = 200
LINEITEM_URL_LENGTH = 1000  # GradedLink.lineitem_url
NAME_LENGTH = 150
EMAIL_LENGTH = 254

# An account a launch made is called this, then its LtiUser's number: sign-up refuses
# names that start so (learning/forms.py), whatever their case.
LTI_USERNAME_PREFIX = "lti-"

TARGET_NOT_HERE = (
    "The link you followed in your LMS opens a page this course does not have, or not "
    "yet, so here is the course page instead."
)


class LaunchRefused(Exception):
    """A checked launch this course cannot take: `reason` is said on the refused page."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


# -- PyLTI1p3's refusals, in words --------------------------------------------------------

NOT_THIS_SESSION = (
    "This launch did not start in this browser session. Open the link in your LMS again. "
    "If your LMS shows this course inside its own page, your browser may be keeping our "
    "cookies out of it: opening the link in a new window works."
)
NOT_REGISTERED = "This LMS is not registered here, or its registration is switched off."
NOT_DEPLOYED = "This LMS deployment is not registered here, or it is switched off."
ALREADY_USED = (
    "This launch was already used, or it took too long. Open the link in your LMS again."
)
BAD_SIGNATURE = "This launch's signature could not be checked against the LMS's keys."
NOT_FOR_THIS_TOOL = (
    "This launch was meant for another tool as well as this course, so it is not accepted "
    "here. Tell the LMS administrator."
)
UNREADABLE = "The LMS sent a launch this course cannot read."
UNREADABLE_LOGIN = "The LMS started a login this course cannot read."

# (the start of PyLTI1p3's message, our words, the status)
REFUSALS: list[tuple[str, str, int]] = [
    ("State not found", NOT_THIS_SESSION, 403),
    ("Missing state param", NOT_THIS_SESSION, 400),
    ("Missing %s cookie", NOT_THIS_SESSION, 403),
    ("Missing id_token", "The LMS sent no launch token.", 400),
    ("Invalid id_token", UNREADABLE, 400),
    ("Invalid JWT format", UNREADABLE, 400),
    ('"nonce" is empty', UNREADABLE, 400),
    ("Invalid Nonce", ALREADY_USED, 403),
    ('"iss" is empty', NOT_REGISTERED, 403),
    ("Registration not found.", NOT_REGISTERED, 403),
    ("Client id not registered for this issuer", NOT_REGISTERED, 403),
    ("deployment_id is not set", NOT_DEPLOYED, 403),
    ("Unable to find deployment", NOT_DEPLOYED, 403),
    (
        "Error during fetch URL",
        "The LMS's signing keys could not be fetched, so this launch could not be checked. "
        "Try again in a moment; if it keeps happening, tell the LMS administrator.",
        403,
    ),
    (
        "Invalid response from",
        "The LMS's signing keys could not be read, so this launch could not be checked. "
        "Tell the LMS administrator.",
        403,
    ),
    ("JWT KID not found", BAD_SIGNATURE, 403),
    ("JWT ALG not found", BAD_SIGNATURE, 403),
    ("Unable to find public key", BAD_SIGNATURE, 403),
    ("Can't convert JWT key", BAD_SIGNATURE, 403),
    ("Must have a user (sub)", "The LMS did not say who is launching.", 403),
    ("Unrecognized message type", "This course does not take this kind of launch.", 403),
    ("Invalid message type", "This course does not take this kind of launch.", 403),
]


def refusal_reason(message: str) -> tuple[str, int]:
    """Our words and status for a message PyLTI1p3 refused a launch with."""
    for start, reason, status in REFUSALS:
        if message.startswith(start):
            return reason, status
    if message.startswith("Can't decode id_token"):
        lowered = message.lower()
        if "expired" in lowered:
            return "This launch has expired. Open the link in your LMS again.", 403
        if "not yet valid" in lowered:
            return (
                "This launch is dated in the future: the LMS's clock and ours disagree. "
                "Tell the LMS administrator.",
                403,
            )
        if "missing" in lowered:
            return "The launch token lacks its issue or expiry time.", 403
        return BAD_SIGNATURE, 403
    return "This launch could not be checked.", 403


def use_up_nonce(message_launch: DjangoMessageLaunch) -> bool:
    """Delete the launch's nonce; False if another request used it first."""
    nonce = message_launch.get_launch_data()["nonce"]
    storage = launch_data_storage()
    storage.set_request(message_launch._request)
    key = message_launch.get_session_service().data_storage._prepare_key(f"lti1p3-nonce-{nonce}")
    return bool(storage._get_cache().delete(key))


# -- reading a launch ----------------------------------------------------------------------


@dataclass(frozen=True)
class CourseClaim:
    id: str
    title: str
    label: str
    types: frozenset[str]
    memberships_url: str
    # Assignment and Grade Services, when the launch has its claim.
    has_ags: bool
    lineitems_url: str
    ags_scopes: frozenset[str]


@dataclass(frozen=True)
class LinkClaim:
    id: str
    title: str
    description: str


@dataclass(frozen=True)
class Launch:
    """What a checked launch says that we use, each value checked."""

    message_type: str
    sub: str
    given_name: str
    family_name: str
    name: str
    email: str
    roles: frozenset[str]
    course: CourseClaim | None
    link: LinkClaim | None
    target: str
    lineitem_url: str
    frame_origins: tuple[str, ...]

    @property
    def teaches(self) -> bool:
        return bool(self.roles & TEACHING_ROLES)

    @property
    def learns(self) -> bool:
        return ContextRole.LEARNER.value in self.roles

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == DEEP_LINKING_REQUEST

    @property
    def whole_name(self) -> str:
        return self.name or " ".join(part for part in (self.given_name, self.family_name) if part)


def _is_unstorable(character: str) -> bool:
    """A control character (NUL, which PostgreSQL's text refuses, among them) or half of
    a surrogate pair (which no database can encode): both can stand in a JSON string."""
    return unicodedata.category(character) in ("Cc", "Cs")


def is_storable(text: str) -> bool:
    """Whether every character of the text can be stored (and looked up) as it is."""
    return not any(_is_unstorable(c) for c in text)


def clean_text(value: Any, limit: int) -> str:
    """A claim's text, without what no column stores and cut to what its column holds; ""
    for anything but text."""
    if not isinstance(value, str):
        return ""
    storable = "".join(c for c in value if c.isspace() or not _is_unstorable(c))
    return " ".join(storable.split())[:limit]


def _url(value: Any, limit: int = URL_LENGTH) -> str:
    """A web address that fits its column, or ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    fits = len(url) <= limit and url.startswith(("https://", "http://"))
    readable = not any(_is_unstorable(c) or c.isspace() for c in url)
    return url if fits and readable else ""


def is_identifier(value: Any) -> TypeGuard[str]:
    """An LMS's id for a user, course or link that its column holds as sent."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and len(value) <= ID_LENGTH
        and is_storable(value)
    )


def _identifier(value: Any, what: str) -> str:
    if not is_identifier(value):
        raise LaunchRefused(f"The LMS sent {what} this course cannot read.")
    return value


def _check_audience(data: Mapping[str, Any]) -> None:
    """LTI 1.3 core 5.1.3: the token is for this tool alone (PyLTI1p3 has matched its
    first audience to the registration's client id; it checks neither the others nor
    the authorized party)."""
    audience = data.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    client_id = audiences[0] if audiences else None
    if any(each != client_id for each in audiences) or data.get("azp", client_id) != client_id:
        raise LaunchRefused(NOT_FOR_THIS_TOOL)


def _claim(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def checked_email(value: Any) -> str:
    email = value.strip() if isinstance(value, str) else ""
    if len(email) > EMAIL_LENGTH or not is_storable(email):
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return User.objects.normalize_email(email)


def _roles(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(normalize_role(role) for role in value if isinstance(role, str))


def read_launch(data: Mapping[str, Any]) -> Launch:
    """Everything we use from a launch PyLTI1p3 has checked; LaunchRefused for a launch
    this course does not take."""
    message_type = data.get(LTI + "message_type")
    if not isinstance(message_type, str):
        raise LaunchRefused("This course does not take this kind of launch.")
    if message_type in OTHER_MESSAGES:
        raise LaunchRefused(
            f"This course does not take part in {OTHER_MESSAGES[message_type]} from the LMS."
        )
    if message_type not in (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST):
        raise LaunchRefused("This course does not take this kind of launch.")
    _check_audience(data)
    sub = data.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise LaunchRefused("The LMS did not say who is launching.")
    sub = _identifier(sub, "a user id")
    roles = _roles(data.get(LTI + "roles"))
    course = _course_claim(data)
    link = None
    if message_type == RESOURCE_LINK_REQUEST:
        resource_link = _claim(data, LTI + "resource_link")
        link = LinkClaim(
            id=_identifier(resource_link.get("id"), "a link id"),
            title=clean_text(resource_link.get("title"), 500),
            description=clean_text(resource_link.get("description"), 2000),
        )
    custom = _claim(data, LTI + "custom")
    ags = _claim(data, AGS_ENDPOINT)
    scopes = ags.get("scope")
    can_score = isinstance(scopes, list) and AgsScope.PUBLISH_SCORES.value in scopes
    launch = Launch(
        message_type=message_type,
        sub=sub,
        given_name=clean_text(data.get("given_name"), 500),
        family_name=clean_text(data.get("family_name"), 500),
        name=clean_text(data.get("name"), 500),
        email=checked_email(data.get("email")),
        roles=roles,
        course=course,
        link=link,
        target=clean_text(custom.get("target"), 200),
        lineitem_url=_url(ags.get("lineitem"), LINEITEM_URL_LENGTH) if can_score else "",
        frame_origins=tuple(
            unique_origins(
                [
                    _claim(data, LTI + "launch_presentation").get("return_url"),
                    _claim(data, LTI + "tool_platform").get("url"),
                    _claim(data, DEEP_LINKING_SETTINGS).get("deep_link_return_url"),
                ]
            )
        ),
    )
    if can_score and ags.get("lineitem") and not launch.lineitem_url:
        logger.warning(
            "An LTI launch's line item URL is not one we can keep; its link is not graded"
        )
    if launch.is_deep_linking and not launch.teaches:
        raise LaunchRefused(
            "Only a teacher (an instructor or administrator of the LMS course) can add "
            "this course's quizzes to it."
        )
    return launch


def _course_claim(data: Mapping[str, Any]) -> CourseClaim | None:
    if LTI + "context" not in data:
        return None
    context = _claim(data, LTI + "context")
    types = context.get("type")
    ags = data.get(AGS_ENDPOINT)
    scopes = ags.get("scope") if isinstance(ags, dict) else None
    return CourseClaim(
        id=_identifier(context.get("id"), "a course id"),
        title=clean_text(context.get("title"), 500),
        label=clean_text(context.get("label"), 255),
        types=frozenset(t for t in types if isinstance(t, str))
        if isinstance(types, list)
        else frozenset(),
        memberships_url=_url(_claim(data, NRPS_SERVICE).get("context_memberships_url")),
        has_ags=isinstance(ags, dict),
        lineitems_url=_url(ags.get("lineitems")) if isinstance(ags, dict) else "",
        ags_scopes=frozenset(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else frozenset(),
    )


def refuse_switched_off_account(registration: LtiRegistration, launch: Launch) -> None:
    """An account the site's administrators switched off is not signed in by a launch."""
    refused = LtiUser.objects.filter(
        registration=registration, sub=launch.sub, auth_user__is_active=False
    ).exists()
    if refused:
        raise LaunchRefused(
            "Your account on this course is switched off. Ask your teacher or the site's "
            "administrators."
        )


# -- signing in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    url: str
    quiz: Quiz | None = None
    message: str | None = None


@dataclass(frozen=True)
class LaunchOutcome:
    user: User
    next_url: str
    message: str | None = None


@transaction.atomic
def sign_in_from_launch(
    *, registration: LtiRegistration, deployment: LtiDeployment, launch: Launch
) -> LaunchOutcome:
    """The launch's account (made on its first launch), its LMS course's class and
    records, and the page to open."""
    lti_user = _sync_lti_user(registration, launch)
    user = _sync_account(lti_user, launch)
    if launch.teaches:
        _make_teacher(user)
    classroom = None
    resource_link = None
    if launch.course is not None:
        context = _sync_context(deployment, launch.course)
        _sync_membership(lti_user, context, launch.roles)
        classroom = _classroom_of(context)
        if launch.link is not None:
            resource_link = _sync_resource_link(context, launch.link)
    if classroom is not None:
        if launch.teaches:
            classroom.teachers.add(user)
        elif launch.learns and not classroom.teachers.filter(pk=user.pk).exists():
            Membership.objects.get_or_create(classroom=classroom, learner=user)
    if launch.is_deep_linking:
        return LaunchOutcome(user=user, next_url=reverse("lti:deep_link"))
    destination = destination_for(launch.target)
    if resource_link is not None and destination.quiz is not None and launch.lineitem_url:
        GradedLink.objects.update_or_create(
            resource_link=resource_link,
            defaults={"quiz": destination.quiz, "lineitem_url": launch.lineitem_url},
        )
    return LaunchOutcome(user=user, next_url=destination.url, message=destination.message)


def destination_for(target: str) -> Destination:
    """Where a link's custom `target` leads: `topic:<slug>` (its lesson), `quiz:<slug>`
    (its quiz's start page), `review`, `challenge`; nothing: the course page. A target
    we do not have (or a draft topic) leads to the course page, which says so."""
    if not target:
        return Destination(reverse("learning:course"))
    if target == "review":
        return Destination(reverse("learning:review"))
    if target == "challenge":
        challenge = course_services.course_quiz(QuizKind.CHALLENGE)
        return Destination(reverse("learning:challenge"), quiz=challenge)
    kind, _, slug = target.partition(":")
    topic = None
    if kind in ("topic", "quiz") and slug:
        topic = Topic.objects.filter(slug=slug, is_published=True).select_related("quiz").first()
    if topic is not None and kind == "topic":
        return Destination(reverse("learning:lesson", args=[topic.slug]))
    quiz = getattr(topic, "quiz", None)
    if quiz is not None:
        return Destination(reverse("learning:quiz", args=[topic.slug]), quiz=quiz)  # type: ignore[union-attr]
    return Destination(reverse("learning:course"), message=TARGET_NOT_HERE)


def _sync_lti_user(registration: LtiRegistration, launch: Launch) -> LtiUser:
    lti_user, _ = LtiUser.objects.select_for_update().get_or_create(
        registration=registration, sub=launch.sub
    )
    given = {
        "given_name": launch.given_name,
        "family_name": launch.family_name,
        "name": launch.name,
        "email": launch.email,
    }
    changed = [
        field for field, value in given.items() if value and getattr(lti_user, field) != value
    ]
    for field in changed:
        setattr(lti_user, field, given[field])
    if changed:
        lti_user.save(update_fields=[*changed, "datetime_modified"])
    return lti_user


def _sync_account(lti_user: LtiUser, launch: Launch) -> User:
    user = account_for(lti_user)
    update_account(user, name=launch.whole_name, email=launch.email)
    return user


def account_for(lti_user: LtiUser) -> User:
    """The account tied to (registration, sub), made the first time a launch or the roster
    meets it: no password (it signs in only through the LMS)."""
    user = lti_user.auth_user
    if user is None:
        user = User.objects.create_user(username=_free_username(lti_user))
        lti_user.auth_user = user
        lti_user.save(update_fields=["auth_user", "datetime_modified"])
    return user


def update_account(user: User, *, name: str, email: str) -> bool:
    """Copy what the LMS says onto the account; True if that changed it. The name is kept
    whole in the first name, as sign-up keeps it (the certificate prints it); no name or no
    valid email leaves the one we have."""
    changed: dict[str, str] = {}
    name = clean_text(name, NAME_LENGTH)
    if name:
        changed |= {"first_name": name, "last_name": ""}
    email = checked_email(email)
    if email:
        changed["email"] = email
    changed = {field: value for field, value in changed.items() if getattr(user, field) != value}
    for field, value in changed.items():
        setattr(user, field, value)
    if changed:
        user.save(update_fields=list(changed))
    return bool(changed)


def _free_username(lti_user: LtiUser) -> str:
    """`lti-<number>`: sign-up cannot take such a name; one a superuser made in the admin
    is stepped around."""
    base = f"{LTI_USERNAME_PREFIX}{lti_user.pk}"
    username, step = base, 1
    while User.objects.filter(username__iexact=username).exists():
        step += 1
        username = f"{base}-{step}"
    return username


def _make_teacher(user: User) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    group = Group.objects.filter(name=TEACHERS_GROUP).first()
    if group is None:
        group = sync_teachers_group(Group, Permission)
    user.groups.add(group)


def _sync_context(deployment: LtiDeployment, course: CourseClaim) -> LtiContext:
    values: dict[str, Any] = {
        "is_course_template": ContextType.COURSE_TEMPLATE.value in course.types,
        "is_course_offering": ContextType.COURSE_OFFERING.value in course.types,
        "is_course_section": ContextType.COURSE_SECTION.value in course.types,
        "is_group": ContextType.GROUP.value in course.types,
    }
    if course.title:
        values["title"] = course.title
    if course.label:
        values["label"] = course.label
    if course.memberships_url:
        values["memberships_url"] = course.memberships_url
    if course.has_ags:
        values |= {
            "lineitems_url": course.lineitems_url,
            "can_query_lineitems": AgsScope.QUERY_LINEITEMS.value in course.ags_scopes,
            "can_manage_lineitems": AgsScope.MANAGE_LINEITEMS.value in course.ags_scopes,
            "can_publish_scores": AgsScope.PUBLISH_SCORES.value in course.ags_scopes,
            "can_access_results": AgsScope.ACCESS_RESULTS.value in course.ags_scopes,
        }
    # update_or_create locks the context's row: two first launches into one course make
    # one class between them.
    context, _ = LtiContext.objects.update_or_create(
        deployment=deployment, id_on_platform=course.id, defaults=values
    )
    return context


def _sync_membership(lti_user: LtiUser, context: LtiContext, roles: frozenset[str]) -> None:
    """The roles this launch gave, as the LMS said them (the roster does the same)."""
    LtiMembership.objects.update_or_create(
        user=lti_user,
        context=context,
        defaults={
            "is_administrator": ContextRole.ADMINISTRATOR.value in roles,
            "is_content_developer": ContextRole.CONTENT_DEVELOPER.value in roles,
            "is_instructor": ContextRole.INSTRUCTOR.value in roles,
            "is_learner": ContextRole.LEARNER.value in roles,
            "is_mentor": ContextRole.MENTOR.value in roles,
            "is_active": True,
        },
    )


def _classroom_of(context: LtiContext) -> Classroom:
    """The LMS course's class, made on its first launch and named after the course (a
    teacher may rename it in the admin; later launches keep their name)."""
    lms_class = LmsClass.objects.select_related("classroom").filter(context=context).first()
    if lms_class is not None:
        return lms_class.classroom
    name = context.title or context.label or f"LMS course {context.id_on_platform}"
    classroom = Classroom.objects.create(name=name[: Classroom._meta.get_field("name").max_length])
    LmsClass.objects.create(context=context, classroom=classroom)
    return classroom


def _sync_resource_link(context: LtiContext, link: LinkClaim) -> LtiResourceLink:
    values = {"title": link.title} if link.title else {}
    if link.description:
        values["description"] = link.description
    resource_link, _ = LtiResourceLink.objects.update_or_create(
        context=context, id_on_platform=link.id, defaults=values
    )
    return resource_link
