"""Deep linking: a teacher in the LMS's "add external tool" screen picks a quiz.

The launch (learning/lti/launch.py) checks the LMS's deep-linking request, signs the
instructor in and keeps the launch's id in their session; this page restores that launch
from PyLTI1p3's cache, lists what can be placed in the course (each published topic's
quiz and the course challenge) and answers the pick with a signed deep-linking response:
one LTI resource link to our launch URL, with a custom `target` the launch opens and a
line item (a gradebook column out of 100) the LMS creates for it. The browser posts it
back to the LMS. A launch id serves one pick.
"""

from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.http import require_http_methods
from lti_tool.models import LtiUser
from pylti1p3.contrib.django import DjangoMessageLaunch
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem

from learning import services
from learning.lti.framing import origin_of
from learning.lti.tool import ToolConfig, launch_data_storage
from learning.models import Quiz, QuizKind, Topic

# Set by the launch for an instructor's deep-linking request.
SESSION_KEY = "lti_deep_link_launch_id"
SCORE_MAXIMUM = 100
LINE_ITEM_TAG = "muscle-spasms-course"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
INSTITUTION_ADMINISTRATOR = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
)

EXPIRED = (
    "This page was opened from your LMS too long ago, or has been used already. Add the "
    "activity again from your LMS."
)


@dataclass(frozen=True)
class Pick:
    """Something a teacher can place in the LMS course."""

    target: str  # the launch's custom `target`: "quiz:<slug>" or "challenge"
    title: str
    summary: str
    question_count: int
    pass_mark: int
    lms_grade: str  # the score the gradebook gets, in words

    @property
    def column(self) -> str:
        return self.title


def picks() -> dict[str, Pick]:
    """Each published topic's quiz, in course order, then the course challenge."""
    topics = (
        Topic.objects.filter(is_published=True, quiz__isnull=False)
        .select_related("quiz")
        .order_by("order", "title")
    )
    found = [
        _pick(f"quiz:{topic.slug}", f"{topic.title} quiz", topic.summary, topic.quiz)
        for topic in topics
    ]
    challenge = services.course_quiz(QuizKind.CHALLENGE)
    found.append(
        _pick(
            "challenge",
            "Course challenge",
            "Mixed questions from every topic the learner has started, more from their weak ones.",
            challenge,
        )
    )
    return {pick.target: pick for pick in found}


def _pick(target: str, title: str, summary: str, quiz: Quiz) -> Pick:
    return Pick(
        target=target,
        title=title,
        summary=summary,
        question_count=quiz.question_count,
        pass_mark=quiz.pass_mark,
        lms_grade=quiz.get_lms_grade_display().lower(),
    )


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "lti/refused.html", {"reason": reason}, status=status)


def _restore(request: HttpRequest) -> DjangoMessageLaunch | HttpResponse:
    """The instructor's deep-linking launch kept in this session, or a page refusing."""
    launch_id = request.session.get(SESSION_KEY)
    if not isinstance(launch_id, str):
        return _refused(request, "No request from your LMS to add an activity is open here.", 400)
    tool_config = ToolConfig()
    try:
        message_launch = cast(
            DjangoMessageLaunch,
            DjangoMessageLaunch.from_cache(
                launch_id, request, tool_config, launch_data_storage=launch_data_storage()
            ),
        )
        is_deep_link = message_launch.is_deep_link_launch()
    except LtiException:
        return _refused(request, EXPIRED, 410)
    if not is_deep_link:
        return _refused(
            request, "This launch from your LMS was not a request to add an activity.", 400
        )
    data = message_launch.get_launch_data()
    is_launcher = (
        request.user.is_authenticated
        and tool_config.registration is not None
        and LtiUser.objects.filter(
            registration=tool_config.registration, sub=data.get("sub"), auth_user=request.user
        ).exists()
    )
    if not (is_launcher and _may_place_activities(message_launch)):
        return _refused(
            request,
            "Only the teacher who opened this from the LMS course can pick an activity.",
            403,
        )
    settings_claim = _deep_linking_settings(message_launch)
    if "ltiResourceLink" not in settings_claim.get("accept_types", []):
        return _refused(
            request, "Your LMS asked for a kind of link this course does not make.", 400
        )
    if origin_of(settings_claim.get("deep_link_return_url")) is None:
        return _refused(request, "Your LMS did not say where to send the activity back.", 400)
    return message_launch


def _deep_linking_settings(message_launch: DjangoMessageLaunch) -> dict[str, Any]:
    claim = message_launch.get_launch_data().get(DEEP_LINKING_SETTINGS)
    return claim if isinstance(claim, dict) else {}


def _may_place_activities(message_launch: DjangoMessageLaunch) -> bool:
    roles = message_launch.get_launch_data().get(
        "https://purl.imsglobal.org/spec/lti/claim/roles", []
    )
    return (
        message_launch.check_teacher_access()
        or message_launch.check_designer_access()
        or message_launch.check_staff_access()
        or INSTITUTION_ADMINISTRATOR in roles
    )


@require_http_methods(["GET", "POST"])
def pick(request: HttpRequest) -> HttpResponse:
    restored = _restore(request)
    if isinstance(restored, HttpResponse):
        return restored
    message_launch = restored
    available = picks()
    context: dict[str, Any] = {"picks": available.values(), "score_maximum": SCORE_MAXIMUM}
    if request.method == "GET":
        return render(request, "lti/deep_link.html", context)
    chosen = available.get(request.POST.get("target", ""))
    if chosen is None:
        context["error"] = "That activity is not one of these: pick one below."
        return render(request, "lti/deep_link.html", context, status=400)
    if not _use_up(request, message_launch):
        return _refused(request, EXPIRED, 410)
    deep_link = message_launch.get_deep_link()
    message = deep_link.get_message_jwt([_resource(request, chosen)])
    if message.get(DEEP_LINKING_DATA) is None:
        # Deep Linking 2.0 echoes the request's `data`; PyLTI1p3 would send null for none.
        message.pop(DEEP_LINKING_DATA, None)
    jwt = deep_link.encode_jwt(message)
    return_url = _deep_linking_settings(message_launch)["deep_link_return_url"]
    response = render(
        request,
        "lti/deep_link_return.html",
        {"return_url": return_url, "jwt": jwt, "chosen": chosen},
    )
    return _allow_form_action(response, return_url)


def _resource(request: HttpRequest, chosen: Pick) -> DeepLinkResource:
    line_item = (
        LineItem()
        .set_score_maximum(SCORE_MAXIMUM)
        .set_label(chosen.column)
        .set_resource_id(chosen.target)
        .set_tag(LINE_ITEM_TAG)
    )
    return (
        DeepLinkResource()
        .set_url(request.build_absolute_uri(reverse("lti:launch")))
        .set_custom_params({"target": chosen.target})
        .set_title(chosen.title)
        .set_lineitem(line_item)
    )


def _use_up(request: HttpRequest, message_launch: DjangoMessageLaunch) -> bool:
    """Forget the launch (its id serves one pick); False if another request did first."""
    request.session.pop(SESSION_KEY, None)
    storage = message_launch.get_session_service().data_storage
    key = storage._prepare_key(message_launch.get_launch_id())
    return bool(storage._get_cache().delete(key))


def _allow_form_action(response: HttpResponse, return_url: str) -> HttpResponse:
    """This one response may post its form to the LMS: the CSP middleware takes a
    response's `_csp_config` (what Django's `csp_override` decorator sets, here with a
    value known only now) instead of settings.SECURE_CSP."""
    base = getattr(response, "_csp_config", settings.SECURE_CSP)
    # An origin (checked by _restore), never the URL's raw text: the header takes it as is.
    form_action = [*base.get("form-action", [CSP.SELF]), origin_of(return_url)]
    response._csp_config = {**base, "form-action": form_action}  # type: ignore[attr-defined]
    return response
