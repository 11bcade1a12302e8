"""What the site says when a learner's session changes hands."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest

LOGGED_OUT = "You have logged out. Your progress is saved for next time."


def say_logged_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # Shown on the page the logout redirects to; a test client's logout has no messages.
    if request is not None:
        messages.success(request, LOGGED_OUT, fail_silently=True)


def connect() -> None:
    user_logged_out.connect(say_logged_out, dispatch_uid="learning.say_logged_out")
