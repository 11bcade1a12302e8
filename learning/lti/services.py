"""What a checked launch does here: the account it signs in, and where it goes."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from lti_tool.models import LtiUser
from pylti1p3.contrib.django import DjangoMessageLaunch

from learning.lti.tool import launch_data_storage

# PyLTI1p3's messages, in words for the person whose launch failed.
REFUSALS = {
    "State not found": "This launch did not start in this browser session.",
    "Missing state param": "This launch did not start in this browser session.",
    "Invalid Nonce": "This launch was already used, or it took too long.",
    "Registration not found.": "This LMS is not registered here.",
    "Client id not registered for this issuer": "This LMS is not registered here.",
    "Unable to find deployment": "This LMS deployment is not registered here.",
}


def refusal_reason(message: str) -> str:
    if message in REFUSALS:
        return REFUSALS[message]
    if message.startswith("Can't decode id_token"):
        if "expired" in message.lower():
            return "This launch has expired. Open the link in your LMS again."
        return "This launch's signature could not be checked."
    return "This launch could not be checked."


def use_up_nonce(message_launch: DjangoMessageLaunch) -> bool:
    """Delete the launch's nonce; False if another request used it first."""
    nonce = message_launch.get_launch_data()["nonce"]
    storage = launch_data_storage()
    storage.set_request(message_launch._request)
    key = message_launch.get_session_service().data_storage._prepare_key(f"lti1p3-nonce-{nonce}")
    return bool(storage._get_cache().delete(key))


@dataclass(frozen=True)
class LaunchOutcome:
    user: User
    next_url: str


@transaction.atomic
def sign_in_from_launch(message_launch: DjangoMessageLaunch) -> LaunchOutcome:
    data = message_launch.get_launch_data()
    registration = message_launch.get_tool_conf().registration
    lti_user, _ = LtiUser.objects.select_for_update().get_or_create(
        registration=registration, sub=data["sub"]
    )
    if lti_user.auth_user is None:
        lti_user.auth_user = User.objects.create_user(username=f"lti-{lti_user.pk}", password=None)
        lti_user.save(update_fields=["auth_user"])
    user = lti_user.auth_user
    user.first_name = (data.get("given_name") or user.first_name)[:150]
    user.last_name = (data.get("family_name") or user.last_name)[:150]
    user.email = data.get("email") or user.email
    user.save(update_fields=["first_name", "last_name", "email"])
    return LaunchOutcome(user=user, next_url=reverse("learning:course"))
