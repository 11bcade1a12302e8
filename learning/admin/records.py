"""Learner records: progress and attempts (read-only, a teacher's own learners only), and
the classes teachers manage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest
from django.utils.html import format_html

from learning.admin.learners import LearnerRecordAdmin
from learning.admin.lockouts import LiftLockoutAdmin, LockoutColumnInline
from learning.admin.read_only import ReadOnlyAdminMixin
from learning.models import (
    Attempt,
    Classroom,
    Membership,
    Response,
    TopicProgress,
    new_join_code,
)

if TYPE_CHECKING:
    from django.db.models import ManyToManyField, Model
    from django.forms import BaseFormSet, ModelForm, ModelMultipleChoiceField
    from django_stubs_ext import WithAnnotations


class LearnerCount(TypedDict):
    learners_total: int


@admin.register(TopicProgress)
class TopicProgressAdmin(LearnerRecordAdmin):
    list_display = (
        "learner",
        "topic",
        "mastery",
        "best_percent",
        "attempt_count",
        "lesson_read_at",
        "last_activity_at",
    )
    list_filter = ("topic", "mastery")
    list_select_related = ("learner", "topic")
    search_fields = ("learner__username",)
    fields = (
        "learner_name",
        "topic",
        "mastery",
        "best_percent",
        "attempt_count",
        "high_score_on",
        "lesson_read_at",
        "last_activity_at",
    )
    readonly_fields = fields


class ResponseInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Response
    fields = ("position", "question", "points", "answered_at")
    readonly_fields = fields
    extra = 0


@admin.register(Attempt)
class AttemptAdmin(LearnerRecordAdmin):
    list_display = ("id", "learner", "quiz_title", "state", "score", "passed", "started_at")
    list_filter = ("state", "passed", "quiz__kind", "quiz__topic")
    list_select_related = ("learner", "quiz__topic")
    search_fields = ("learner__username",)
    fields = (
        "learner_name",
        "quiz",
        "state",
        "points",
        "percent",
        "passed",
        "sequence",
        "started_at",
        "deadline",
        "finished_at",
        "question_ids",
        "choice_orders",
    )
    readonly_fields = fields
    inlines = (ResponseInline,)

    @admin.display(description="Quiz", ordering="quiz__topic__order")
    def quiz_title(self, attempt: Attempt) -> str:
        # A topic's title, or the kind of a course-wide quiz ("Spaced review").
        return attempt.quiz.title

    @admin.display(description="Score", ordering="percent")
    def score(self, attempt: Attempt) -> str:
        if attempt.percent is None:
            return "–"
        return format_html("{}%", attempt.percent)


class MembershipInline(LockoutColumnInline):
    model = Membership
    fields = ("learner_name", "joined_at", "log_in")
    readonly_fields = fields
    extra = 0
    verbose_name = "learner"
    verbose_name_plural = "Learners in this class (tick Delete to remove one)"

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("learner")

    @admin.display(description="Learner")
    def learner_name(self, membership: Membership) -> str:
        # Plain text: a link would lead to the user's page, which teachers cannot open.
        return membership.learner.get_username()


@admin.register(Classroom)
class ClassroomAdmin(LiftLockoutAdmin):
    """A teacher's classes: they see and manage the ones they teach."""

    list_display = ("name", "code", "learner_count", "created_at")
    search_fields = ("name", "join_code")
    fields = ("name", "code", "teachers")
    readonly_fields = ("code",)
    inlines = (MembershipInline,)
    actions = ("new_join_codes",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Classroom]:
        classes = super().get_queryset(request).annotate(learners_total=Count("memberships"))
        if request.user.is_superuser:
            return classes
        return classes.filter(teachers=request.user)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Classroom | None:
        classroom = super().get_object(request, object_id, from_field)
        if classroom is None:
            # Another teacher's class (or none): not found, rather than Django's redirect.
            raise Http404("You teach no class with this id.")
        return classroom

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        if db_field.name == "teachers":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True)
            kwargs["widget"] = forms.CheckboxSelectMultiple
            kwargs["help_text"] = "Teachers who see this class; you are added when you save."
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm[Classroom],
        formsets: list[BaseFormSet[Any]],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        teacher = request.user
        if teacher.is_authenticated and not teacher.is_superuser:
            # A teacher always teaches the classes they create or edit.
            form.instance.teachers.add(teacher)

    @admin.display(description="Join code", ordering="join_code")
    def code(self, classroom: Classroom) -> str:
        return classroom.display_code if classroom.pk else "Made when you save"

    @admin.display(description="Learners", ordering="learners_total")
    def learner_count(self, classroom: WithAnnotations[Classroom, LearnerCount]) -> int:
        return classroom.learners_total

    @admin.action(description="Give the selected classes new join codes")
    def new_join_codes(self, request: HttpRequest, queryset: QuerySet[Classroom]) -> None:
        for classroom in queryset:
            classroom.join_code = new_join_code()
            classroom.save(update_fields=["join_code"])
        self.message_user(request, f"New join codes for {queryset.count()} class(es).")
