"""Names and Role Provisioning: a class's member list filled from the LMS roster."""

from django.http import HttpRequest, HttpResponse


def sync_roster(request: HttpRequest, classroom_id: int) -> HttpResponse:
    raise NotImplementedError
