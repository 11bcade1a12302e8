"""Names and Role Provisioning: a class's member list filled from the LMS roster.

A teacher of a class that is an LMS course asks for it (the button on the class's page
in the admin). Every active member with the Learner role becomes an account tied to
(platform, LTI subject), the one their launches will sign in, and a member of the class;
an Inactive or Deleted one leaves the class (and stops getting grades sent), keeping all
their records. Members the roster does not list are left as they are (a learner may have
joined with the class's code).
"""

import re
import time
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from lti_tool.lti_core.constants import ContextRole
from lti_tool.lti_core.utils import normalize_role
from lti_tool.models import LtiContext, LtiMembership, LtiRegistration, LtiUser
from pylti1p3.names_roles import NamesRolesProvisioningService

from learning.http import AuthenticatedHttpRequest
from learning.lti.connector import ServiceFailure, lms_errors_in_words, service_connector
from learning.lti.services import (
    account_for,
    checked_email,
    clean_text,
    is_identifier,
    update_account,
)
from learning.models import Classroom, LmsClass, Membership

LEARNER_SUB_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#"
# The details a roster may give, as LtiUser and User fields.
LTI_USER_DETAILS = {
    "given_name": "given_name",
    "family_name": "family_name",
    "name": "name",
    "email": "email",
}


# A roster of a few thousand in pages of 10 to 100; a fetch is a teacher's request, so it
# ends well before gunicorn's 60-second timeout.
ROSTER_PAGES = 500
ROSTER_SECONDS = 40


class RosterError(Exception):
    """The roster could not be fetched; the message says why."""


@dataclass(frozen=True)
class RosterCounts:
    added: int
    updated: int
    removed: int
    unchanged: int
    unreadable: int = 0

    def __str__(self) -> str:
        said = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed "
            f"({self.unchanged} unchanged)."
        )
        if self.unreadable:
            members = "member" if self.unreadable == 1 else "members"
            said += (
                f" {self.unreadable} {members} the LMS listed could not be read and "
                f"{'was' if self.unreadable == 1 else 'were'} left out."
            )
        return said


@require_POST
@login_required
def sync_roster(request: AuthenticatedHttpRequest, classroom_id: int) -> HttpResponse:
    classroom = get_object_or_404(Classroom, pk=classroom_id)
    if not (request.user.is_superuser or classroom.teachers.contains(request.user)):
        raise PermissionDenied("Only a teacher of this class can fetch its member list.")
    lms_class = (
        LmsClass.objects.filter(classroom=classroom)
        .select_related("context__deployment__registration", "classroom")
        .first()
    )
    if lms_class is None:
        raise Http404("This class is not an LMS course.")
    try:
        counts = fetch_roster(lms_class=lms_class)
    except RosterError as error:
        messages.error(request, f"The member list could not be fetched from the LMS. {error}")
    else:
        messages.success(request, f"Fetched the member list from the LMS: {counts}")
    return redirect("admin:learning_classroom_change", classroom.pk)


def fetch_roster(*, lms_class: LmsClass) -> RosterCounts:
    """Ask the LMS for the course's members (every page of them), then apply the list."""
    context = lms_class.context
    if not context.memberships_url:
        raise RosterError(
            "This LMS course has not offered its member list (Names and Role Provisioning "
            "was not in its launches)."
        )
    registration = context.deployment.registration
    try:
        with lms_errors_in_words(registration):
            service = NamesRolesProvisioningService(
                service_connector(registration),
                {"context_memberships_url": context.memberships_url},
            )
            members = _every_page(service, context.memberships_url)
    except ServiceFailure as failure:
        raise RosterError(str(failure)) from failure
    return apply_roster(lms_class=lms_class, members=members)


def _every_page(service: NamesRolesProvisioningService, url: str) -> list[Any]:
    """The members on every page, following each page's `Link: <...>; rel="next"` as the
    LMS wrote it (PyLTI1p3's own loop lowercases it, and never stops if a page links back
    to one it has read), within ROSTER_PAGES pages and about ROSTER_SECONDS."""
    members: list[Any] = []
    read: set[str] = set()
    deadline = time.monotonic() + ROSTER_SECONDS
    next_url: str | None = url
    while next_url is not None:
        if next_url in read:
            raise RosterError(
                "The LMS's member list does not end: it links to a page it gave already."
            )
        if len(read) == ROSTER_PAGES or time.monotonic() > deadline:
            raise RosterError(
                f"The LMS's member list did not end within {len(read)} pages: ask again later."
            )
        read.add(next_url)
        answer = service.get_nrps_data(members_url=next_url)
        body = answer.get("body")
        page = body.get("members") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise RosterError("The LMS's member list could not be read.")
        members.extend(page)
        next_url = _next_page(answer.get("headers", {}))
    return members


_NEXT_PAGE = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)


def _next_page(headers: dict[str, str]) -> str | None:
    link = next((value for name, value in headers.items() if name.lower() == "link"), "")
    found = _NEXT_PAGE.search(link.replace("\n", " "))
    return found.group(1).strip() if found and found.group(1).strip() else None


def _is_learner(member: dict[str, Any]) -> bool:
    roles = member.get("roles", [])
    if not isinstance(roles, list):
        return False
    return any(
        isinstance(role, str)
        and (normalize_role(role) == ContextRole.LEARNER or role.startswith(LEARNER_SUB_ROLE))
        for role in roles
    )


def _copy_details(member: dict[str, Any], record: Any, fields: dict[str, str]) -> list[str]:
    """Copy the details the roster gives onto the record, checked as a launch checks them;
    the names of the fields changed."""
    changed = []
    for claim, name in fields.items():
        limit = record._meta.get_field(name).max_length
        value = member.get(claim)
        value = checked_email(value) if name == "email" else clean_text(value, limit)
        if not value:
            continue
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    return changed


@transaction.atomic
def apply_roster(*, lms_class: LmsClass, members: list[Any]) -> RosterCounts:
    context = lms_class.context
    registration = context.deployment.registration
    classroom = lms_class.classroom
    teacher_ids = set(classroom.teachers.values_list("pk", flat=True))
    added = updated = removed = unchanged = unreadable = 0
    for member in members:
        if not isinstance(member, dict) or not _is_learner(member):
            continue
        sub = member.get("user_id")
        # None, longer than LTI's 255 characters (LtiUser.sub), or holding a NUL or a
        # broken character: no launch can bring it, no column takes it as it is.
        if not is_identifier(sub):
            unreadable += 1
            continue
        if member.get("status", "Active") != "Active":
            removed += _leave(
                classroom=classroom, context=context, registration=registration, sub=sub
            )
            continue
        # Locked as a launch locks it: the two never make two accounts for one learner.
        lti_user, _ = LtiUser.objects.select_for_update().get_or_create(
            registration=registration, sub=sub
        )
        lti_changed = _copy_details(member, lti_user, LTI_USER_DETAILS)
        if lti_changed:
            lti_user.save(update_fields=[*lti_changed, "datetime_modified"])
        user = account_for(lti_user)
        details = {key: value for key, value in member.items() if isinstance(value, str)}
        whole_name = details.get("name") or " ".join(
            part for part in (details.get("given_name"), details.get("family_name")) if part
        )
        user_changed = update_account(user, name=whole_name, email=details.get("email", ""))
        LtiMembership.objects.update_or_create(
            user=lti_user, context=context, defaults={"is_learner": True, "is_active": True}
        )
        # As a launch does: whoever teaches the class is not made one of its learners.
        joined = False
        if user.pk not in teacher_ids:
            _, joined = Membership.objects.get_or_create(classroom=classroom, learner=user)
        if joined:
            added += 1
        elif user_changed or lti_changed:
            updated += 1
        else:
            unchanged += 1
    lms_class.roster_synced_at = timezone.now()
    lms_class.save(update_fields=["roster_synced_at"])
    return RosterCounts(
        added=added, updated=updated, removed=removed, unchanged=unchanged, unreadable=unreadable
    )


def _leave(
    *, classroom: Classroom, context: LtiContext, registration: LtiRegistration, sub: str
) -> int:
    """An Inactive or Deleted member leaves the class; 1 if they were in it."""
    lti_user = LtiUser.objects.filter(registration=registration, sub=sub).first()
    if lti_user is None:
        return 0
    LtiMembership.objects.filter(user=lti_user, context=context).update(is_active=False)
    if lti_user.auth_user_id is None:
        return 0
    membership = Membership.objects.filter(
        classroom=classroom, learner_id=lti_user.auth_user_id
    ).first()
    if membership is None:
        return 0
    membership.delete()  # the class membership only: their attempts and progress stay
    return 1
