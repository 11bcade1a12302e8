"""Scores on their way to LMS gradebooks (learning/lti/grades.py): a teacher sees their
learners' sends, where each stands and why one failed, and may send them again now."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from learning.admin.learners import learner_page_link
from learning.admin.read_only import ReadOnlyAdminMixin
from learning.lti import grades
from learning.models import GradeSend
from learning.selectors import learners_taught_by


@admin.register(GradeSend)
class GradeSendAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "learner_name",
        "quiz",
        "gradebook",
        "score_given",
        "state",
        "tries",
        "next_try_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("state", ("link__quiz", admin.RelatedOnlyFieldListFilter))
    list_select_related = (
        "attempt__learner",
        "attempt__quiz__topic",  # the row's name (the checkbox's label) names its attempt
        "link__quiz__topic",
        "link__resource_link__context",
    )
    search_fields = ("attempt__learner__username", "attempt__learner__first_name")
    date_hierarchy = "created_at"
    actions = ("send_again_now",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[GradeSend]:
        return (
            super()
            .get_queryset(request)
            .filter(attempt__learner__in=learners_taught_by(request.user))
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        send = super().get_object(request, object_id, from_field)
        if send is None:
            raise Http404("None of your learners has a score with this id.")
        return send

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("learning.send_again_gradesend")

    @admin.display(description="Learner", ordering="attempt__learner__username")
    def learner_name(self, send: GradeSend) -> str:
        return learner_page_link(send.attempt.learner)

    @admin.display(description="Quiz", ordering="link__quiz")
    def quiz(self, send: GradeSend) -> str:
        return str(send.link.quiz)

    @admin.display(description="Gradebook")
    def gradebook(self, send: GradeSend) -> str:
        context = send.link.resource_link.context
        return context.title or context.id_on_platform

    @admin.action(description="Send again now", permissions=["send"])
    def send_again_now(self, request: HttpRequest, queryset: QuerySet[GradeSend]) -> None:
        tally, left = grades.send_again_now(queryset.values_list("pk", flat=True))
        message = f"Sent again: {tally}."
        if left:
            message += f" {left} left as they were (sent already, or replaced by a later score)."
        self.message_user(request, message)
