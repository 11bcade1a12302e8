"""How the tool calls an LMS's services (grades back, rosters): PyLTI1p3's ServiceConnector,
which gets an OAuth 2 access token with a client assertion signed by our active Key, and
what went wrong, in words a teacher can act on."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from lti_tool.models import Key, LtiRegistration
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.service_connector import ServiceConnector

# Seconds an LMS has to answer each request; without one, a hung LMS would hold a worker
# (or the grade-sending thread) forever.
SERVICE_TIMEOUT = 10
USER_AGENT = "muscle-spasms-course (PyLTI1p3)"


class ServiceFailure(Exception):
    """An LMS service could not be used; the message says why, in words."""


class _TimedSession(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", SERVICE_TIMEOUT)
        return super().request(*args, **kwargs)


def service_connector(registration: LtiRegistration) -> ServiceConnector:
    """A connector for this platform, signing with our active key (`manage.py rotate_keys`)."""
    try:
        platform = registration.to_registration()
    except Key.DoesNotExist:
        raise ServiceFailure(
            "The tool has no active key to sign with: run `manage.py ensure_lti_key`."
        ) from None
    session = _TimedSession()
    session.headers["User-Agent"] = USER_AGENT
    return ServiceConnector(platform, requests_session=session)


@contextmanager
def lms_errors_in_words(registration: LtiRegistration) -> Iterator[None]:
    """Turn what a call to the LMS can raise into a ServiceFailure saying what happened."""
    try:
        yield
    except LtiServiceException as error:
        raise ServiceFailure(_answered(error.response, registration)) from error
    except requests.Timeout as error:
        raise ServiceFailure(
            f"The LMS did not answer within {SERVICE_TIMEOUT} seconds."
        ) from error
    except requests.ConnectionError as error:
        raise ServiceFailure("The LMS could not be reached (no connection).") from error
    except (requests.RequestException, ValueError, RecursionError) as error:
        # ValueError: an answer that is not the JSON the service promises (RecursionError:
        # JSON nested too deep to read).
        raise ServiceFailure(
            "The LMS's answer could not be read: it was not the data the service promises."
        ) from error
    except LtiException as error:
        raise ServiceFailure(f"The request to the LMS could not be made: {error}") from error


def _answered(response: requests.Response, registration: LtiRegistration) -> str:
    status = f"{response.status_code} {response.reason}".strip()
    body = " ".join(response.text.split())[:200]
    # An error page in HTML says nothing a teacher can read; a short text or JSON may.
    looks_like_html = "html" in response.headers.get("Content-Type", "") or body.startswith("<")
    said = f": {body}" if body and not looks_like_html else ""
    if response.url == registration.token_url:
        return f"The LMS refused the tool an access token ({status}){said}"
    return f"The LMS answered {status}{said}"
