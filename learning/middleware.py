"""A request whose parts cannot be read answers 400 with a short message, never a 500.

Django reads a request lazily: the Host header when something asks for it, the query
string and cookies on first use, the form body when `request.POST` is first touched, which
for a POST is the CSRF middleware's token check. A part a client spoiled (a form body in
UTF-16, a broken multipart boundary, a body past DATA_UPLOAD_MAX_MEMORY_SIZE, a Host we do
not serve) makes Django raise there. Django turns most of these into a 400 itself, but it
logs each with a full traceback, and for a spoiled form body its 400 and 500 pages run
the CSRF check again, which reads the same body, raises again, and the request ends as
the WSGI server's own 500 with a traceback dozens of kilobytes long.

So this middleware, first in MIDDLEWARE, reads those parts before anything else does. If
one cannot be read it answers 400 in plain text saying which part, and logs one WARNING
line under "django.request" without a traceback; no view, no other middleware runs. A
request that passes is parsed already, so nothing later can fail on it. A view that finds
a parameter spoiled in the same way (the admin's `?_to_field=` naming a field it may not
use, a BadRequest of ours) answers the same 400 and one WARNING line: a client's mistake,
logged under Django's own logger for it, not an error with a traceback.
"""

import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest, DisallowedHost, SuspiciousOperation
from django.db import DataError
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.log import log_response

# What reading a spoiled part raises: Django's own 400s (BadRequest, SuspiciousOperation:
# DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent), a multipart body
# it cannot parse, text it cannot decode (UnicodeDecodeError, a ValueError) or a charset it
# does not know (LookupError), and a body the client stopped sending halfway.
UNREADABLE = (
    BadRequest,
    SuspiciousOperation,
    MultiPartParserError,
    ValueError,
    LookupError,
    UnreadablePostError,
)

REQUEST_LOGGER = logging.getLogger("django.request")


def unreadable_part(request: HttpRequest) -> str | None:
    """Which part of the request cannot be read, in words, or None if all of it can."""
    try:
        request.get_host()
    except DisallowedHost:
        return "the Host header names no site served here"
    try:
        request.COOKIES  # noqa: B018 - reading it parses it
    except UNREADABLE:
        return "the cookies cannot be read"
    try:
        request.GET  # noqa: B018
    except UNREADABLE:
        return "the query string cannot be read"
    if request.method == "POST":
        try:
            request.POST  # noqa: B018
            request.FILES  # noqa: B018
        except UNREADABLE:
            return "the form data cannot be read"
    return None


def bad_request(
    request: HttpRequest,
    problem: str,
    logger: logging.Logger = REQUEST_LOGGER,
    detail: str | None = None,
) -> HttpResponse:
    """A short plain-text 400 saying `problem`; the log line says `detail` if given (it may
    quote the client, so it stays out of the page)."""
    response = HttpResponse(
        f"Bad request: {problem}.\n", status=400, content_type="text/plain; charset=utf-8"
    )
    response["X-Content-Type-Options"] = "nosniff"
    # One line, no traceback; marks the response logged, so Django does not log it again.
    log_response(
        "Bad request (%s): %s",
        (detail or problem)[:300],
        request.path,
        response=response,
        request=request,
        logger=logger,
    )
    return response


class UnreadableRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = unreadable_part(request)
        if problem is not None:
            return bad_request(request, problem)
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not response.streaming
            and not response.content
            and request.method != "HEAD"
        ):
            # Django's require_POST and the like answer with an empty body, which a
            # browser shows as its own error page.
            page = render_to_string("405.html")
            response.content = page.encode()
            response["Content-Type"] = "text/html; charset=utf-8"
            # CommonMiddleware has already said 0: a browser would read nothing.
            response["Content-Length"] = str(len(response.content))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SuspiciousOperation):
            name = type(exception).__name__
            logger = logging.getLogger(f"django.security.{name}")
            problem = "the request asks for something it may not"
            return bad_request(request, problem, logger, detail=f"{name}: {exception}")
        if isinstance(exception, BadRequest):
            problem = "the request cannot be served"
            return bad_request(request, problem, detail=str(exception) or None)
        if isinstance(exception, OverflowError) and request.method in ("GET", "HEAD"):
            # A number in the query too large for the database's integers (SQLite raises
            # this when the admin filters by ?topic=<25 digits>): the client's mistake.
            return bad_request(request, "a number in the request is too large")
        if isinstance(exception, DataError) and request.method in ("GET", "HEAD"):
            # PostgreSQL's "value out of range" for the same query: a read changed nothing.
            return bad_request(request, "a value in the request is out of range")
        return None
