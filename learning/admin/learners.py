"""Learner records in the admin, limited to the learners of the classes a teacher teaches
(`learning.selectors.learners_taught_by`; a superuser sees every learner)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from learning.admin.read_only import ReadOnlyAdminMixin
from learning.models import Attempt, TopicProgress
from learning.selectors import learners_taught_by


class LearnerRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only list of records with a `learner`: a teacher's list, search, filters and
    change pages hold only their own learners' records; any other is a 404, as if it did
    not exist. The learner is named in plain text, since teachers cannot open user pages."""

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
        return record.learner.get_username()
