"""Request types for the views, so a view says what it may assume about `request`.

`HttpRequest.user` is `User | AnonymousUser`; behind `@login_required` it is always the
User model, which `AuthenticatedHttpRequest` states (as django-stubs suggests). The htmx
variants add what django-htmx's middleware sets on every request (as its docs show).
These are annotations only: Django still passes its own request object.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class AuthenticatedHtmxHttpRequest(AuthenticatedHttpRequest, HtmxHttpRequest):
    pass
