"""How much a client may upload, refused by the size it declares before Django reads it.

The only file the site takes is a question file in the admin's import (`MAX_IMPORT_BYTES`).
`UploadSizeLimit`, the first middleware, answers 413 with the limit in words to any request
whose Content-Length is larger than that file and its form fields, before anything (the
unreadable-request middleware, the CSRF check) parses the body. `RequestSizeLimit`, first of
`FILE_UPLOAD_HANDLERS`, stops a multipart body that turns out longer than it said.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

MAX_IMPORT_BYTES = 2 * 1024 * 1024
# The question file and the form fields around it (the CSRF token, the format, the topic).
MAX_REQUEST_BYTES = MAX_IMPORT_BYTES + 64 * 1024


def declared_size(meta: dict[str, Any]) -> int:
    """The body size a request declares in its Content-Length, 0 if none or unreadable."""
    try:
        return max(int(meta.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large_message(size: int) -> str:
    return f"The file is {size // 1024} KB; the limit is {MAX_IMPORT_BYTES // 1024} KB."


class UploadSizeLimit:
    """Refuse a request body declared larger than `MAX_REQUEST_BYTES`, unread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size = declared_size(request.META)
        if size > MAX_REQUEST_BYTES:
            if request.path == reverse("admin:learning_question_import"):
                said = f"{too_large_message(size)} Nothing was read or imported."
            else:  # any other form, or an LMS's launch: no file was asked for
                said = (
                    f"What was sent is {size // 1024} KB, more than this site takes "
                    f"({MAX_REQUEST_BYTES // 1024} KB). Nothing was read or saved."
                )
            response = HttpResponse(
                f"{said}\n",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
            # Answered before SecurityMiddleware, which would add this.
            response["X-Content-Type-Options"] = "nosniff"
            return response
        return self.get_response(request)


class RequestSizeLimit(FileUploadHandler):
    """Refuse a multipart body over `MAX_REQUEST_BYTES` by its declared length, and stop
    one that turns out longer than it said. Stores nothing: the next handlers do."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        self.received = 0
        if content_length > MAX_REQUEST_BYTES:
            raise RequestDataTooBig(too_large_message(content_length))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > MAX_REQUEST_BYTES:
            raise RequestDataTooBig(too_large_message(self.received))
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
