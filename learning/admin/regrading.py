"""Regrading past answers from a question's change page: a dry run, then a confirm."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from learning import regrading, selectors
from learning.models import Question


class QuestionRegradeAdmin(admin.ModelAdmin):
    """The regrade page of the Question admin (which is built on this), and the link to it
    and the regrade history on the question's change page."""

    def get_urls(self) -> list[URLPattern]:
        regrade = path(
            "<int:object_id>/regrade/",
            self.admin_site.admin_view(self.regrade_view),
            name="learning_question_regrade",
        )
        return [regrade, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        question = (
            Question.objects.select_related("topic")
            .prefetch_related("choices")
            .filter(pk=int(object_id))
            .first()
            if object_id.isdigit()
            else None
        )
        context: dict[str, Any] = {}
        if question is not None:
            context["regrades"] = list(question.regrades.select_related("teacher")[:10])
            if self.has_change_permission(request, question) and regrading.needs_regrade(question):
                context["regrade_url"] = reverse(
                    "admin:learning_question_regrade", args=[question.pk]
                )
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    def regrade_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """GET: the dry run, nothing written. POST: apply the dry run named by its token."""
        question = get_object_or_404(
            Question.objects.select_related("topic").prefetch_related("choices"), pk=object_id
        )
        if not self.has_change_permission(request, question):
            raise PermissionDenied
        status = 200
        if request.method == "POST":
            assert isinstance(request.user, User)
            try:
                done = regrading.apply_regrade(
                    question=question, teacher=request.user, token=request.POST.get("token", "")
                )
            except regrading.RegradeRefused as refusal:
                messages.error(request, str(refusal))
                status = 409
            else:
                messages.success(
                    request,
                    f"Regraded {done.responses_checked} past answer(s): "
                    f"{done.responses_changed} changed points, "
                    f"{done.attempts_changed} attempt(s) rescored, "
                    f"{done.passes_flipped} pass(es) flipped.",
                )
                return redirect("admin:learning_question_change", question.pk)
        plan = regrading.plan_regrade(question=question)
        # The question is shared, so its regrade reaches every learner; but a teacher sees
        # by name only the learners of the classes they teach.
        named = set(
            selectors.learners_taught_by(request.user)
            .filter(pk__in={change.before.learner_id for change in plan.attempts})
            .values_list("pk", flat=True)
        )
        shown = [change for change in plan.attempts if change.before.learner_id in named]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": question,
            "title": "Regrade past answers",
            "plan": plan,
            "attempts_shown": shown,
            "attempts_not_named": len(plan.attempts) - len(shown),
        }
        return TemplateResponse(
            request, "admin/learning/question/regrade.html", context, status=status
        )
