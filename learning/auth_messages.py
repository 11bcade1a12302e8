"""What the site says when a learner's session changes hands."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest

LOGGED_OUT = "You have logged out. Your progress is saved for next time."
# An account an LMS launch made has no password: it comes back through the LMS.
LOGGED_OUT_OF_LMS_ACCOUNT = (
    "You have logged out. Your progress is saved: to come back, open the course's link "
    "in your LMS again."
)
# learning.lti.framing.REGISTRATION_KEY: the session a launch started.
LTI_SESSION_KEY = "lti_registration_id"


def say_logged_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # Shown on the page the logout redirects to; a test client's logout has no messages.
    if request is not None:
        launched = LTI_SESSION_KEY in getattr(request, "session", {})
        said = LOGGED_OUT_OF_LMS_ACCOUNT if launched else LOGGED_OUT
        messages.success(request, said, fail_silently=True)


def connect() -> None:
    user_logged_out.connect(say_logged_out, dispatch_uid="learning.say_logged_out")
