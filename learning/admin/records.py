"""Learner records: progress and attempts (read-only, a teacher's own learners only), and
the classes teachers manage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html

from learning.admin.learners import LearnerRecordAdmin, ResetLinkAdminMixin, learner_page_link
from learning.admin.lockouts import LiftLockoutAdmin, LockoutColumnInline
from learning.learner_records import (
    ATTEMPTS_PER_PAGE,
    attempt_answers,
    learner_attempts,
    learner_classes,
    learner_label,
    learner_topics,
)
from learning.models import (
    Attempt,
    Classroom,
    Membership,
    TopicProgress,
    new_join_code,
)
from learning.password_resets import MAKE_RESET_LINK, is_learner_account
from learning.selectors import learners_taught_by

if TYPE_CHECKING:
    from django.db.models import ManyToManyField, Model
    from django.forms import BaseFormSet, ModelForm, ModelMultipleChoiceField
    from django_stubs_ext import WithAnnotations


class LearnerCount(TypedDict):
    learners_total: int


@admin.register(TopicProgress)
class TopicProgressAdmin(LearnerRecordAdmin):
    list_display = (
        "learner_name",
        "topic",
        "mastery",
        "best_percent",
        "attempt_count",
        "lesson_read_at",
        "last_activity_at",
    )
    list_display_links = ("topic",)
    list_filter = ("topic", "mastery")
    list_select_related = ("learner", "topic")
    search_fields = ("learner__username", "learner__first_name", "learner__last_name")
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


@admin.register(Attempt)
class AttemptAdmin(ResetLinkAdminMixin, LearnerRecordAdmin):
    list_display = (
        "id",
        "learner_name",
        "quiz_title",
        "state",
        "score",
        "passed_if_graded",
        "started_at",
    )
    list_filter = ("state", "passed", "quiz__kind", "quiz__topic")
    list_select_related = ("learner", "quiz__topic")
    search_fields = ("learner__username", "learner__first_name", "learner__last_name")
    fields = (
        "learner_name",
        "quiz",
        "attempt_number",
        "state",
        "score_in_full",
        "passed",
        "started_at",
        "deadline",
        "finished_at",
    )
    readonly_fields = fields
    # The answers, question by question, follow the fields (attempt_answers below).
    change_form_template = "admin/learning/attempt/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        learner_page = path(
            "learner/<int:learner_id>/",
            self.admin_site.admin_view(self.learner_view),
            name="learning_attempt_learner",
        )
        return [learner_page, *super().get_urls()]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Attempt | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["answers"] = attempt_answers(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def learner_view(self, request: HttpRequest, learner_id: int) -> HttpResponse:
        """One learner of the teacher's classes: their progress per topic and attempts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        learner = get_object_or_404(learners_taught_by(request.user), pk=learner_id)
        attempts = Paginator(learner_attempts(learner), ATTEMPTS_PER_PAGE)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Learner {learner_label(learner)}",
            "learner": learner,
            # Already one of the teacher's learners: what is left is staff or inactive.
            "may_reset_password": is_learner_account(learner)
            and request.user.has_perm(MAKE_RESET_LINK),
            "classes": learner_classes(learner, seen_by=request.user),
            "topics": learner_topics(learner),
            "page": attempts.get_page(request.GET.get("page")),
        }
        return TemplateResponse(request, "admin/learning/learner.html", context)

    @admin.display(description="Quiz", ordering="quiz__topic__order")
    def quiz_title(self, attempt: Attempt) -> str:
        # A topic's title, or the kind of session ("Review session", "Course challenge").
        return attempt.quiz.session_title

    @admin.display(description="Passed", boolean=True, ordering="passed")
    def passed_if_graded(self, attempt: Attempt) -> bool | None:
        # A review session is practice: neither passed nor failed.
        return None if attempt.quiz.is_practice else attempt.passed

    @admin.display(description="Attempt at this quiz")
    def attempt_number(self, attempt: Attempt) -> str:
        # Numbered when a topic quiz's attempt finishes: 1 is the one item analysis counts.
        return f"{attempt.sequence}" if attempt.sequence else "–"

    @admin.display(description="Score")
    def score_in_full(self, attempt: Attempt) -> str:
        points = f"{round(attempt.points, 2).normalize():f}"
        if attempt.percent is None:
            return f"{points} points so far of {attempt.question_total}"
        return f"{attempt.percent}% ({points} of {attempt.question_total} points)"

    @admin.display(description="Score", ordering="percent")
    def score(self, attempt: Attempt) -> str:
        if attempt.percent is None:
            return "–"
        return format_html("{}%", attempt.percent)


class MembershipFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form: forms.ModelForm[Any], index: int | None) -> None:
        super().add_fields(form, index)
        # The Delete box of a table row has no visible label: name it for screen readers.
        membership = form.instance
        if "DELETE" in form.fields and isinstance(membership, Membership) and membership.pk:
            learner = membership.learner.get_username()
            form.fields["DELETE"].widget.attrs["aria-label"] = f"Remove {learner} from this class"


class MembershipInline(LockoutColumnInline):
    model = Membership
    formset = MembershipFormSet
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
        return learner_page_link(membership.learner)


@admin.register(Classroom)
class ClassroomAdmin(LiftLockoutAdmin):
    """A teacher's classes: they see and manage the ones they teach."""

    list_display = ("name", "code", "learner_count", "created_at")
    search_fields = ("name", "join_code")
    fields = ("name", "code", "teachers")
    readonly_fields = ("code",)
    inlines = (MembershipInline,)
    actions = ("new_join_codes",)
    # Links to the class's progress report and grade export above the form.
    change_form_template = "admin/learning/classroom/change_form.html"

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
