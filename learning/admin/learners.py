"""Learner records in the admin, limited to the learners of the classes a teacher teaches
(`learning.selectors.learners_taught_by`; a superuser sees every learner)."""

import logging
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from learning.admin.read_only import ReadOnlyAdminMixin
from learning.learner_records import learner_label
from learning.models import Attempt, TopicProgress
from learning.password_resets import (
    MAKE_RESET_LINK,
    learners_a_teacher_may_reset,
    reset_link_path,
)
from learning.selectors import learners_taught_by

logger = logging.getLogger(__name__)
require_GET_or_POST = require_http_methods(["GET", "POST"])


def learner_page_link(learner: User) -> str:
    """The learner named (with the name they gave), linked to their page in the admin."""
    url = reverse("admin:learning_attempt_learner", args=[learner.pk])
    return format_html('<a href="{}">{}</a>', url, learner_label(learner))


class LearnerRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only list of records with a `learner`: a teacher's list, search, filters and
    change pages hold only their own learners' records; any other is a 404, as if it did
    not exist. The learner links to their learner page, never to the user admin (which
    teachers cannot open)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(learner__in=learners_taught_by(request.user))

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        record = super().get_object(request, object_id, from_field)
        if record is None:
            # Django would redirect to the admin's home page with "... doesn't exist".
            raise Http404("None of your learners has a record with this id.")
        return record

    @admin.display(description="Learner", ordering="learner__username")
    def learner_name(self, record: Attempt | TopicProgress) -> str:
        return learner_page_link(record.learner)


class ResetLinkAdminMixin(admin.ModelAdmin):
    """From a learner's page: a one-time link to choose a new password, for a learner
    without e-mail. GET asks to confirm; POST makes the link and shows it once (it is not
    stored, so it cannot be shown again), and writes it to the learner's admin history."""

    def get_urls(self) -> list[URLPattern]:
        reset_link = path(
            "learner/<int:learner_id>/reset-link/",
            self.admin_site.admin_view(require_GET_or_POST(self.reset_link_view)),
            name="learning_attempt_learner_reset_link",
        )
        return [reset_link, *super().get_urls()]

    def reset_link_view(self, request: HttpRequest, learner_id: int) -> HttpResponse:
        # Its own permission: a link signs in as the learner, more than seeing their records.
        if not request.user.has_perm(MAKE_RESET_LINK):
            raise PermissionDenied
        learner = get_object_or_404(learners_a_teacher_may_reset(request.user), pk=learner_id)
        link = ""
        if request.method == "POST":
            link = request.build_absolute_uri(reset_link_path(learner))
            username = learner.get_username()
            logger.info("%s made a password reset link for %s", request.user, username)
            self.log_change(request, learner, f"Made a one-time password reset link ({username}).")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Password reset link for {learner_label(learner)}",
            "learner": learner,
            "link": link,
        }
        return TemplateResponse(request, "admin/learning/reset_link.html", context)
