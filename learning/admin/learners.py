"""Learner records in the admin, limited to the learners of the classes a teacher teaches
(`learning.selectors.learners_taught_by`; a superuser sees every learner)."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from learning.admin.read_only import ReadOnlyAdminMixin
from learning.learner_records import learner_label
from learning.models import Attempt, TopicProgress
from learning.selectors import learners_taught_by


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
