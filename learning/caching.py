"""Pages made for one logged-in person are never stored by a browser or a shared cache.

Every response to a logged-in user (the course page with their progress, the dashboard,
quizzes, questions and their htmx partials, results, the admin) is marked
`Cache-Control: private, no-store` (Django's `never_cache` headers), so a shared computer's
back button or a proxy cache cannot show it to the next person. A response to a visitor
who is not logged in keeps whatever its view set; reading `request.user` here reads the
session, so SessionMiddleware adds `Vary: Cookie` and a cache keeps logged-in and
logged-out copies apart.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class PrivatePagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
