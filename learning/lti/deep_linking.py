"""Deep linking: a teacher in the LMS's "add external tool" screen picks a quiz."""

from django.http import HttpRequest, HttpResponse


def pick(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
