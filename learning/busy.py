"""A write that cannot get the database in time answers 503 "not saved, try again".

Under load a write may wait for the database longer than it is allowed to: SQLite says
"database is locked" once its busy timeout (SQLITE_TIMEOUT_SECONDS) has passed, PostgreSQL
raises a lock timeout, a serialization failure or a deadlock. Every write is one
transaction, so nothing of it was stored; the request can simply be sent again. So
instead of a bare "Server Error (500)" the learner gets a 503 with `Retry-After` and a
page saying that what they sent was NOT saved (the answer view re-renders the question
with their input kept, see learning/views.py), and the htmx client retries once by
itself (static/js/site.js).
"""

import logging
import sys
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.log import log_response
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2
BUSY_MESSAGE = (
    "The site is very busy right now, so this was NOT saved. "
    "Nothing was changed: please send it again in a moment."
)

# SQLite's messages when a lock could not be had within the busy timeout.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
# PostgreSQL: lock_not_available (lock_timeout, NOWAIT), serialization_failure,
# deadlock_detected. Each aborts the whole transaction, so nothing of it is stored.
_POSTGRES_BUSY = {"55P03", "40001", "40P01"}

# Redis (REDIS_URL) holds the sessions' copy and the cache; when it does not answer within
# its half-second timeout, a request that reads a session cannot go on. Whether a write
# before that was stored is not known here, so this message makes no claim about it.
UNREACHABLE_MESSAGE = (
    "The site cannot reach part of its storage right now. "
    "Please try again in a moment; if you had just sent an answer, check it then."
)


def is_store_unreachable(error: BaseException) -> bool:
    """Whether `error` means Redis did not answer (refused, reset or timed out)."""
    return isinstance(error, RedisConnectionError | RedisTimeoutError)


def is_database_busy(error: BaseException) -> bool:
    """Whether `error` means the database was too busy to take this write in time."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if code in _POSTGRES_BUSY:
        return True
    message = str(error).lower()
    return any(text in message for text in _SQLITE_BUSY)


def mark_busy(response: HttpResponse, request: HttpRequest, error: BaseException) -> HttpResponse:
    """Give a 503 its Retry-After and log it as one WARNING line, without a traceback: the
    site is busy, not broken. (Marks the response logged, so Django does not log it again
    as an error.)"""
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    log_response(
        "Database busy or Redis unreachable, answered 503: %s %s: %s",
        request.method,
        request.path,
        error,
        response=response,
        request=request,
        logger=logger,
        level="warning",
    )
    return response


def busy_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 for any page: a short sentence for htmx, a whole page otherwise."""
    unreachable = is_store_unreachable(error)
    message = UNREACHABLE_MESSAGE if unreachable else BUSY_MESSAGE
    if getattr(request, "htmx", False):
        response = HttpResponse(
            message + "\n", status=503, content_type="text/plain; charset=utf-8"
        )
    elif unreachable:
        # Rendered without the request: the page's header would read the session again.
        response = HttpResponse(
            render_to_string("unreachable.html", {"message": message}), status=503
        )
    else:
        response = render(request, "busy.html", {"message": message}, status=503)
    return mark_busy(response, request, error)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 (quizsite/urls.py): a busy database met outside a view, as when a
    middleware saves the session after it, is the same 503; any other error is Django's
    own 500 page. (Django calls this, with debug off, while it handles the exception.)"""
    error = sys.exc_info()[1]
    if error is not None and (is_database_busy(error) or is_store_unreachable(error)):
        return busy_response(request, error)
    return defaults.server_error(request)


class BusyDatabaseMiddleware:
    """Turns a view's "database busy" error into the 503 above; any other error passes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_busy(exception) or is_store_unreachable(exception):
            return busy_response(request, exception)
        return None
