"""A URL whose view fails, for the logging tests: a real unhandled exception in a request."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def fail_on_purpose(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the test view failed on purpose")


urlpatterns = [path("fail", fail_on_purpose)]
