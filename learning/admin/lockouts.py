"""Lifting a learner's log-in lock-out from the page of a class they are in.

A teacher sees which learners of their class are locked out, on the class's page, with a
button that lifts the lock; a superuser can do it in every class (and anyone's from the
axes "Access attempts" admin).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from learning.lockouts import is_locked_out, lift_lockout
from learning.models import Membership

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)


class LockedOut(TypedDict):
    locked_out: bool


class LockoutColumnInline(admin.TabularInline):
    """A class's learners, each with whether they are locked out and a button to lift it.
    The subclass lists "log_in" in its fields and readonly_fields."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return (
            super()
            .get_queryset(request)
            .select_related("learner")
            .annotate(locked_out=is_locked_out("learner__username"))
        )

    @admin.display(description="Log-in")
    def log_in(self, membership: WithAnnotations[Membership, LockedOut]) -> str:
        if not membership.locked_out:
            return "–"
        url = reverse(
            "admin:learning_classroom_lift_lockout",
            args=[membership.classroom_id, membership.learner_id],
        )
        # The button submits the class's own form (and its CSRF token) to the lift view.
        return format_html(
            'Locked out after too many wrong passwords <button type="submit" '
            'formaction="{}" class="button">Let {} log in again</button>',
            url,
            membership.learner.get_username(),
        )


class LiftLockoutAdmin(admin.ModelAdmin):
    """The class admin's view that lifts a learner's lock-out (POST only)."""

    def get_urls(self) -> list[URLPattern]:
        lift = path(
            "<path:object_id>/lift-lockout/<int:learner_id>/",
            self.admin_site.admin_view(require_POST(self.lift_lockout_view)),
            name="learning_classroom_lift_lockout",
        )
        return [lift, *super().get_urls()]

    def lift_lockout_view(
        self, request: HttpRequest, object_id: str, learner_id: int
    ) -> HttpResponseRedirect:
        classroom = self.get_object(request, object_id)  # only a class this teacher teaches
        if classroom is None:
            raise Http404("You teach no class with that id.")
        if not self.has_change_permission(request, classroom):
            raise PermissionDenied
        membership = get_object_or_404(
            Membership.objects.select_related("learner"),
            classroom=classroom,
            learner_id=learner_id,
        )
        username = membership.learner.get_username()
        if lift_lockout(username=username):
            logger.info("%s lifted the log-in lock-out of %s", request.user, username)
            self.log_change(request, classroom, f"Lifted the log-in lock-out of {username}.")
            self.message_user(request, f"Lock-out lifted: {username} can log in again.")
        else:
            self.message_user(request, f"Nothing to lift: {username} was not locked out.")
        return HttpResponseRedirect(
            reverse("admin:learning_classroom_change", args=[classroom.pk])
        )
